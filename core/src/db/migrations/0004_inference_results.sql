CREATE TABLE "image_faces" (
	"id" uuid PRIMARY KEY NOT NULL,
	"image_id" uuid NOT NULL,
	"model_id" text NOT NULL,
	"model_version" text NOT NULL,
	"detector_id" text NOT NULL,
	"detector_version" text NOT NULL,
	"x" real NOT NULL,
	"y" real NOT NULL,
	"width" real NOT NULL,
	"height" real NOT NULL,
	"landmarks" jsonb NOT NULL,
	"score" real NOT NULL,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_results" (
	"image_id" uuid NOT NULL,
	"task" text NOT NULL,
	"model_id" text NOT NULL,
	"model_version" text NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "image_results_image_id_task_model_id_model_version_pk" PRIMARY KEY("image_id","task","model_id","model_version")
);
--> statement-breakpoint
CREATE TABLE "image_text_lines" (
	"image_id" uuid NOT NULL,
	"model_id" text NOT NULL,
	"model_version" text NOT NULL,
	"line_no" integer NOT NULL,
	"text" text NOT NULL,
	"confidence" real NOT NULL,
	"polygon" jsonb NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "image_text_lines_image_id_model_id_model_version_line_no_pk" PRIMARY KEY("image_id","model_id","model_version","line_no")
);
--> statement-breakpoint
CREATE TABLE "task_models" (
	"task" text PRIMARY KEY NOT NULL,
	"model_id" text NOT NULL,
	"model_version" text NOT NULL,
	"activated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "image_faces" ADD CONSTRAINT "image_faces_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_results" ADD CONSTRAINT "image_results_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "image_text_lines" ADD CONSTRAINT "image_text_lines_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "image_faces_image_idx" ON "image_faces" USING btree ("image_id","model_id","model_version");--> statement-breakpoint
CREATE INDEX "image_results_model_idx" ON "image_results" USING btree ("task","model_id","model_version");--> statement-breakpoint
CREATE INDEX "image_text_lines_search_idx" ON "image_text_lines" USING gin (to_tsvector('simple', "text"));