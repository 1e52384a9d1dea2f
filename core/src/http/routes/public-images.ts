import { AexError, Problem, PublicImageBySha, PublicSearchResults, SearchQuery } from '@aex/shared';
import type { AexEnv } from '@aex/shared/http';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { PublicImagesRepository } from '../../db/public-images-repository.ts';
import { toPublicImage } from '../../services/public-image-dto.ts';
import type { SearchService } from '../../services/search.ts';
import { problems } from '../problems.ts';

/** Anyone gets the same answer, so shared caches (a CDN) may keep it a minute. */
const PUBLIC_MINUTE = 'public, max-age=60';
/** "Not public" is kept briefly: an image made public shows up within seconds. */
const NOT_PUBLIC_SECONDS = 'public, max-age=10';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

export const publicSearchRoute = createRoute({
  method: 'get',
  path: '/api/v1/public/search',
  summary: 'Search the public images (no sign-in)',
  description:
    'As `GET /api/v1/search`, over public images only, with the public fields of each ' +
    '(no location, camera, file name, keywords, faces or text). Cacheable for a minute.',
  request: { query: SearchQuery },
  responses: {
    200: {
      description: 'Hits, best first',
      content: { 'application/json': { schema: PublicSearchResults } },
    },
    400: problems[400],
    404: problems[404],
    409: problem('No model has produced what this search needs yet (`conflict`).'),
    503: problem('No worker answered the text embedding in time (`unavailable`); see Retry-After.'),
  },
});

export const publicImageByShaRoute = createRoute({
  method: 'get',
  path: '/api/v1/public/images/by-sha/{sha256}',
  summary: 'Whether the image with these bytes is public',
  description:
    'How the edge decides whether a thumbnail may be served to anyone: 200 when a public ' +
    'image has this sha256, 404 otherwise (internal, or not stored: the same answer).',
  request: { params: PublicImageBySha },
  responses: {
    200: {
      description: 'Public',
      content: { 'application/json': { schema: z.object({ public: z.literal(true) }) } },
    },
    400: problems[400],
    404: problems[404],
  },
});

/** `GET /api/v1/public/search` and `GET /api/v1/public/images/by-sha/:sha256`: for anyone. */
export function registerPublicImages(
  app: OpenAPIHono<AexEnv>,
  deps: { search: SearchService; publicImages: Pick<PublicImagesRepository, 'isPublicSha256'> },
): void {
  app.openapi(publicSearchRoute, async (c) => {
    const results = await deps.search.search(c.req.valid('query'), 'public');
    const items = results.items.map((hit) => ({
      image: toPublicImage(hit.image),
      score: hit.score,
    }));
    return c.json({ items }, 200, { 'cache-control': PUBLIC_MINUTE });
  });
  app.openapi(publicImageByShaRoute, async (c) => {
    const { sha256 } = c.req.valid('param');
    if (!(await deps.publicImages.isPublicSha256(sha256))) {
      throw new AexError('not_found', 'No public image has this sha256.', {
        headers: { 'cache-control': NOT_PUBLIC_SECONDS },
      });
    }
    return c.json({ public: true as const }, 200, { 'cache-control': PUBLIC_MINUTE });
  });
}
