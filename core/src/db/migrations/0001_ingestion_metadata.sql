CREATE TABLE "album_images" (
	"album_id" uuid NOT NULL,
	"image_id" uuid NOT NULL,
	"position" double precision NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "album_images_album_id_image_id_pk" PRIMARY KEY("album_id","image_id")
);
--> statement-breakpoint
CREATE TABLE "albums" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"cover_image_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"key" text PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"status" smallint NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "taken_at_offset" smallint;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "taken_at_source" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "lens_model" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "exposure_time" real;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "f_number" real;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "iso" integer;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "focal_length" real;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "focal_length_35mm" real;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "latitude" double precision;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "longitude" double precision;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "altitude" real;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "rating" smallint;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "keywords" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "visibility" text DEFAULT 'internal' NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "dominant_color" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "phash" bigint;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "original_name" text;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "file_modified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "metadata" jsonb;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "images" ADD COLUMN "sort_at" timestamp with time zone GENERATED ALWAYS AS (coalesce(taken_at, created_at)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "album_images" ADD CONSTRAINT "album_images_album_id_albums_id_fk" FOREIGN KEY ("album_id") REFERENCES "public"."albums"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "album_images" ADD CONSTRAINT "album_images_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "albums" ADD CONSTRAINT "albums_cover_image_id_images_id_fk" FOREIGN KEY ("cover_image_id") REFERENCES "public"."images"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "album_images_order_idx" ON "album_images" USING btree ("album_id","position");--> statement-breakpoint
CREATE INDEX "album_images_image_idx" ON "album_images" USING btree ("image_id");--> statement-breakpoint
CREATE INDEX "images_sort_idx" ON "images" USING btree ("sort_at","id");--> statement-breakpoint
CREATE INDEX "images_created_at_idx" ON "images" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "images_camera_model_idx" ON "images" USING btree ("camera_model");--> statement-breakpoint
CREATE INDEX "images_lens_model_idx" ON "images" USING btree ("lens_model");--> statement-breakpoint
CREATE INDEX "images_format_idx" ON "images" USING btree ("format");--> statement-breakpoint
CREATE INDEX "images_rating_idx" ON "images" USING btree ("rating");--> statement-breakpoint
CREATE INDEX "images_visibility_idx" ON "images" USING btree ("visibility");--> statement-breakpoint
CREATE INDEX "images_location_idx" ON "images" USING btree ("latitude","longitude") WHERE "images"."latitude" is not null;--> statement-breakpoint
CREATE INDEX "images_keywords_idx" ON "images" USING gin ("keywords");--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_visibility_values" CHECK ("images"."visibility" in ('public', 'internal'));--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_rating_range" CHECK ("images"."rating" between -1 and 5);--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_latitude_range" CHECK ("images"."latitude" between -90 and 90);--> statement-breakpoint
ALTER TABLE "images" ADD CONSTRAINT "images_longitude_range" CHECK ("images"."longitude" between -180 and 180);