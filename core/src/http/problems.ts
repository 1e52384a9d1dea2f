import { Problem } from '@aex/shared';

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

/** OpenAPI descriptions of the problem+json answers routes share. */
export const problems = {
  400: problem('The request is not valid (`invalid_input`).'),
  401: problem('No valid credentials were sent (`unauthenticated`).'),
  403: problem('The credentials do not allow this (`forbidden`).'),
  404: problem('No such resource (`not_found`).'),
  409: problem('The request conflicts with the current state (`conflict`).'),
  413: problem('The body or the image is too large (`payload_too_large`).'),
  415: problem('The body is not an image AEX reads (`unsupported_media_type`).'),
  429: problem('Too many requests: wait as long as Retry-After says (`rate_limited`).'),
  500: problem('An unexpected error; quote the request id when reporting it (`internal`).'),
} as const;
