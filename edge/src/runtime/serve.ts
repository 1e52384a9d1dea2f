/**
 * Serving a fetch handler on whichever runtime runs the edge. Bun and Deno both take a
 * `(Request) => Response` handler, but under different names (`Bun.serve`, `Deno.serve`);
 * this is the one place that knows both, so the rest of the edge is plain Web APIs.
 */

export interface ServeOptions {
  port: number;
  hostname: string;
  /**
   * Called per request with what the runtime passes beside it (Bun's server, Deno's
   * ServeHandlerInfo), from which the client's address is read.
   */
  fetch: (request: Request, connection: unknown) => Response | Promise<Response>;
}

export interface RunningServer {
  /** The port actually bound (differs from the asked one when that was 0). */
  readonly port: number;
  /** Which runtime serves. */
  readonly runtime: 'bun' | 'deno';
  /** Stops accepting connections and lets requests in flight finish. */
  stop(): Promise<void>;
}

interface BunServe {
  serve(options: {
    port: number;
    hostname: string;
    fetch: ServeOptions['fetch'];
    idleTimeout: number;
    maxRequestBodySize: number;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

interface DenoServe {
  serve(
    options: { port: number; hostname: string; onListen(addr: { port: number }): void },
    handler: ServeOptions['fetch'],
  ): { addr: { port: number }; shutdown(): Promise<void> };
}

/** Thrown on a runtime that is neither Bun nor Deno (Node has no built-in fetch server). */
export class UnsupportedRuntimeError extends Error {
  override name = 'UnsupportedRuntimeError';
}

/** The runtime this process runs on, for logs and for the adapters below. */
export function currentRuntime(): 'bun' | 'deno' | 'other' {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun) return 'bun';
  if (g.Deno) return 'deno';
  return 'other';
}

/** Serves `options.fetch` on Bun or Deno; resolves once the port is bound. */
export async function serveFetch(options: ServeOptions): Promise<RunningServer> {
  const g = globalThis as { Bun?: BunServe; Deno?: DenoServe };
  if (g.Bun) {
    const server = g.Bun.serve({
      port: options.port,
      hostname: options.hostname,
      fetch: options.fetch,
      // Previews on slow links and streamed uploads to core take longer than Bun's 10 s.
      idleTimeout: 120,
      // No cap of Bun's own (128 MiB, a bare 413): uploads stream through to core, which
      // enforces AEX_MAX_UPLOAD_BYTES and answers with problem+json.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
    return {
      port: server.port,
      runtime: 'bun',
      stop: async () => {
        await server.stop();
      },
    };
  }
  if (g.Deno) {
    const deno = g.Deno;
    let server: ReturnType<DenoServe['serve']> | undefined;
    // Deno prints "Listening on …" unless onListen is given; the edge logs its own JSON line.
    const bound = new Promise<number>((done) => {
      server = deno.serve(
        { port: options.port, hostname: options.hostname, onListen: (addr) => done(addr.port) },
        options.fetch,
      );
    });
    const port = await bound;
    const running = server as NonNullable<typeof server>;
    return { port, runtime: 'deno', stop: () => running.shutdown() };
  }
  throw new UnsupportedRuntimeError(
    'The edge serves HTTP on Bun or Deno: start it with `bun edge/bin/edge.ts` or `deno run -A edge/bin/edge.ts`.',
  );
}
