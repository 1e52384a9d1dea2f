import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate --config core/drizzle.config.ts` writes a new migration after a
// schema change; core applies them at start (PGlite and Postgres alike).
export default defineConfig({
  dialect: 'postgresql',
  schema: './core/src/db/schema.ts',
  out: './core/src/db/migrations',
});
