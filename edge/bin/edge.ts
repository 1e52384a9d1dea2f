/**
 * The edge alone, on Bun or on Deno, from the same source:
 *
 *   bun edge/bin/edge.ts
 *   deno run -A edge/bin/edge.ts
 *
 * Configuration comes from the environment (`EdgeEnv`, see the README's table). Only Web APIs
 * and node: builtins both runtimes have are used from here down; `runtime/serve.ts` is the
 * one place that knows how each serves HTTP.
 */
import process from 'node:process';
import { ConfigError } from '@aex/shared';
import { createBlobStore } from '@aex/shared/ports/blob-store/create';
import { createLogger } from '@aex/shared/ports/log';
import { resolveUrlSigningKey } from '@aex/shared/ports/secrets/url-signing-key';
import { createEdge, parseEdgeConfig } from '../src/mod.ts';
import { currentRuntime, serveFetch } from '../src/runtime/serve.ts';

async function main(): Promise<void> {
  const config = parseEdgeConfig(process.env);
  const log = createLogger('edge', config.LOG_LEVEL);
  // Alone, the edge is given core's key (AEX_URL_SIGNING_KEY), or shares its data folder's file.
  const urlSigningKey = await resolveUrlSigningKey({
    configured: config.AEX_URL_SIGNING_KEY,
    dataDir: config.AEX_DATA_DIR,
    whenMissing: 'existing',
  });
  const blobs = createBlobStore(config, { dataDir: config.AEX_DATA_DIR });
  const edge = createEdge(config, { log, blobs, urlSigningKey });
  const server = await serveFetch({
    port: config.PORT,
    hostname: process.env.AEX_HOST ?? '0.0.0.0',
    fetch: edge.fetch,
  });
  log.info(
    { url: `http://localhost:${server.port}`, runtime: server.runtime, core: config.CORE_URL },
    'edge listening',
  );
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) process.exit(1); // a second signal forces the exit
    stopping = true;
    log.info({ signal }, 'edge stopping: finishing requests in flight');
    await server.stop();
    await edge.close();
    await blobs.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

try {
  await main();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(
      `AEX edge cannot start: ${err.message}\nFix these environment variables and start again.`,
    );
    process.exit(2);
  }
  console.error(`AEX edge failed to start on ${currentRuntime()}: ${(err as Error).message}`);
  process.exit(1);
}
