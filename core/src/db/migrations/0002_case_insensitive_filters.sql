DROP INDEX "image_tags_label_idx";--> statement-breakpoint
DROP INDEX "images_camera_model_idx";--> statement-breakpoint
DROP INDEX "images_lens_model_idx";--> statement-breakpoint
CREATE INDEX "image_tags_label_lower_idx" ON "image_tags" USING btree (lower("label"));--> statement-breakpoint
CREATE INDEX "images_camera_model_lower_idx" ON "images" USING btree (lower("camera_model"));--> statement-breakpoint
CREATE INDEX "images_lens_model_lower_idx" ON "images" USING btree (lower("lens_model"));