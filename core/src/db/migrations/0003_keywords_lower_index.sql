-- Tag filters match keywords case-insensitively. An expression index needs an IMMUTABLE
-- function (Postgres refuses a generated column here), so the lowering lives in one.
CREATE OR REPLACE FUNCTION aex_lower_keywords(keywords text[]) RETURNS text[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT coalesce(array_agg(lower(k)), '{}'::text[]) FROM unnest(keywords) AS k $$;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "images_keywords_lower_idx" ON "images" USING gin (aex_lower_keywords("keywords"));
