import type { Logger } from '../ports/log.ts';

/** Hono variables every AEX app sets in `requestContext`. */
export interface AexVariables {
  requestId: string;
  traceId: string;
  log: Logger;
}
export interface AexEnv {
  Variables: AexVariables;
}
