CREATE TABLE "image_tags" (
	"image_id" uuid NOT NULL,
	"model_id" text NOT NULL,
	"model_version" text NOT NULL,
	"label" text NOT NULL,
	"score" real NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "image_tags_image_id_model_id_model_version_label_pk" PRIMARY KEY("image_id","model_id","model_version","label")
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" uuid PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"byte_size" bigint NOT NULL,
	"mime" text NOT NULL,
	"format" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"orientation" smallint,
	"thumbhash" text NOT NULL,
	"taken_at" timestamp with time zone,
	"camera_make" text,
	"camera_model" text,
	"original_key" text NOT NULL,
	"thumb_key" text NOT NULL,
	"preview_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "images_sha256_unique" UNIQUE("sha256")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
ALTER TABLE "image_tags" ADD CONSTRAINT "image_tags_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "image_tags_label_idx" ON "image_tags" USING btree ("label");--> statement-breakpoint
CREATE INDEX "images_taken_at_idx" ON "images" USING btree ("taken_at");--> statement-breakpoint
CREATE INDEX "outbox_created_at_idx" ON "outbox" USING btree ("created_at");