import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CredentialUsageError, credentialHeaders } from '../credentials.ts';
import { FileFactsCache } from './file-facts.ts';
import { formatSummary, importTree } from './importer.ts';

export const IMPORT_USAGE = `Usage: aex import <folder> [options]

Uploads every photo under <folder> to an AEX server, with the metadata of its sidecars
(photo.jpg.xmp, photo.xmp, Google Takeout photo.jpg.json). Run it again to resume: what the
server already has is skipped without uploading.

Options:
  --server URL       AEX server (default: $AEX_URL or http://localhost:8080)
  --api-key KEY      an API key of role editor or admin (default: $AEX_API_KEY)
  --token TOKEN      or an access token (default: $AEX_TOKEN)
  --concurrency N    uploads at once (default 4)
  --dry-run          find and compare, upload nothing
  --json             print the summary as JSON on stdout
  --verbose          also list the files skipped and why
  --no-cache         re-read every file (the cache remembers unchanged files' sha256)`;

/** `aex import`: returns the exit code (0 all imported, 1 some failed, 2 bad usage). */
export async function runImport(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    console.error(`aex import: ${(err as Error).message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  const [folder] = positionals;
  if (!folder || positionals.length > 1) {
    console.error(`aex import: give exactly one folder\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const root = resolve(folder);
  if (!(await stat(root).catch(() => null))?.isDirectory()) {
    console.error(`aex import: ${root} is not a folder`);
    return 2;
  }
  const concurrency = Number(values.concurrency ?? 4);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    console.error('aex import: --concurrency must be a whole number from 1 to 64');
    return 2;
  }
  const server = values.server ?? process.env.AEX_URL ?? 'http://localhost:8080';
  let headers: Record<string, string>;
  try {
    headers = credentialHeaders({ apiKey: values['api-key'], token: values.token }, process.env);
  } catch (err) {
    if (!(err instanceof CredentialUsageError)) throw err;
    console.error(`aex import: ${err.message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  const summary = await importTree({
    root,
    server,
    headers,
    concurrency,
    dryRun: values['dry-run'],
    cache: values['no-cache'] ? await FileFactsCache.open(null) : undefined,
  }).catch((err: Error) => {
    console.error(`aex import: ${err.message}`);
    return null;
  });
  if (!summary) return 1;
  if (values.json) console.log(JSON.stringify(summary));
  else {
    console.log(formatSummary(summary, values['dry-run']));
    if (values.verbose)
      for (const s of summary.skipped) console.log(`  skipped ${s.rel}: ${s.reason}`);
  }
  return summary.failed.length > 0 ? 1 : 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      'api-key': { type: 'string' },
      token: { type: 'string' },
      concurrency: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
