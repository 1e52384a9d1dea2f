#!/usr/bin/env bun
import { parseArgs } from 'node:util';
import { ConfigError } from '@aex/shared';
import type { Role } from './serve.ts';

// The `aex` command: the composition root of AEX, the one module that starts services
// side by side (through their public `mod.ts`, never their internals). Each command loads
// only its own modules: `aex import` started in ~0.4 s when it loaded the server's too.

const USAGE = `Usage: aex <command>

Commands:
  serve [all|core|edge|worker]   Run AEX (default: all — edge, core and a worker in one process)
  import <folder> [options]      Upload a folder of photos to a running AEX (aex import --help)
  models list|pull [options]     List the models and download them (aex models --help)
  reindex --task <task> [opts]   Compute a model version's results for every image (aex reindex --help)
  help                           Show this help

Configuration comes from environment variables; see README.md.`;

const ROLES: Role[] = ['all', 'core', 'edge', 'worker'];

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'import')
    return (await import('./import/import-command.ts')).runImport(argv.slice(1));
  if (argv[0] === 'reindex')
    return (await import('./reindex-command.ts')).runReindex(argv.slice(1));
  if (argv[0] === 'models') return (await import('./models-command.ts')).runModels(argv.slice(1));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || command === 'help') {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'serve') {
    const role = (rest[0] ?? 'all') as Role;
    if (!ROLES.includes(role)) {
      console.error(`aex serve: unknown role "${role}"; use one of ${ROLES.join(', ')}`);
      return 2;
    }
    const { serve } = await import('./serve.ts');
    const running = await serve(role, process.env);
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) process.exit(1); // a second signal forces the exit
      stopping = true;
      console.error(`aex: ${signal} received, finishing work in flight…`);
      await running.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    return -1;
  }
  console.error(`aex: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(
      `AEX cannot start: ${err.message}\nFix these environment variables and start again.`,
    );
    process.exit(2);
  }
  console.error(`AEX failed to start: ${(err as Error).message}`);
  if (process.env.LOG_LEVEL === 'debug') console.error(err);
  process.exit(1);
}
