import type { Logger } from '../ports/log.ts';
import type { Principal } from '../src/auth/principal.ts';

/** Hono variables every AEX app sets in `requestContext`. */
export interface AexVariables {
  requestId: string;
  traceId: string;
  log: Logger;
  /** Who the request proved to be; `ANONYMOUS` until an authentication middleware says otherwise. */
  principal: Principal;
}
export interface AexEnv {
  Variables: AexVariables;
}
