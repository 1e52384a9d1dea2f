import { Problem, SearchQuery, SearchResults } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { SearchService } from '../../services/search.ts';
import { problems } from '../problems.ts';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

export const searchRoute = createRoute({
  method: 'get',
  path: '/api/v1/search',
  summary: 'Search images by meaning, by likeness to an image, or by the words in them',
  description:
    "`q` ranks images by the cosine similarity of their CLIP embedding to the text's; " +
    "`similarTo` by similarity to that image's own embedding (the image itself is left out); " +
    '`text` matches words recognised in the photos (OCR), alone or narrowing `q`/`similarTo`. ' +
    'Every hit has a relevance `score`; `minScore` drops weaker ones. Only the active model ' +
    'versions are searched.',
  request: { query: SearchQuery },
  responses: {
    200: {
      description: 'Hits, best first',
      content: { 'application/json': { schema: SearchResults } },
    },
    400: problems[400],
    404: problems[404],
    409: problem(
      'No model has produced what this search needs yet, or the image has no embedding yet (`conflict`).',
    ),
    503: problem(
      'No worker answered the text embedding in time, none runs CLIP, or this deployment stores no vectors (`unavailable`); see Retry-After.',
    ),
  },
});

/** `GET /api/v1/search`. */
export function registerSearch(app: OpenAPIHono<AexEnv>, deps: { search: SearchService }): void {
  app.openapi(searchRoute, async (c) =>
    c.json(await deps.search.search(c.req.valid('query')), 200),
  );
}
