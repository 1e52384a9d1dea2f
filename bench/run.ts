#!/usr/bin/env bun
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Benchmark, finalLine } from './lib/benchmark.ts';
import { CleanupStack } from './lib/cleanup.ts';
import { machineFacts } from './lib/machine-facts.ts';
import { jsonLineReporter } from './lib/report.ts';

// `npm run bench -- <name> [--flags]`: runs bench/<name>.bench.ts (CONVENTIONS rule 9).
// stdout: the machine's facts, then the benchmark's lines, the summary last; all JSON.

const SUFFIX = '.bench.ts';

function available(): string[] {
  return readdirSync(import.meta.dir)
    .filter((f) => f.endsWith(SUFFIX))
    .map((f) => f.slice(0, -SUFFIX.length))
    .sort();
}

async function load(name: string): Promise<Benchmark> {
  const mod = (await import(join(import.meta.dir, `${name}${SUFFIX}`))) as { default: Benchmark };
  return mod.default;
}

async function list(): Promise<string> {
  const rows = await Promise.all(
    available().map(async (name) => `  ${name.padEnd(12)} ${(await load(name)).description}`),
  );
  return `Usage: npm run bench -- <name> [--flags]   (--help after a name lists its flags)\n\nBenchmarks:\n${rows.join('\n')}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.error(await list());
    return 0;
  }
  if (!available().includes(name)) {
    console.error(`Unknown benchmark "${name}".\n\n${await list()}`);
    return 2;
  }
  const bench = await load(name);
  if (args.includes('--help') || args.includes('-h')) {
    console.error(`npm run bench -- ${name} [--flags]\n${bench.description}\n\n${bench.usage}`);
    return 0;
  }
  const report = jsonLineReporter();
  const cleanup = new CleanupStack();
  cleanup.onSignals();
  report.line('machine', machineFacts());
  try {
    const summary = await bench.run({ args, report, cleanup });
    report.summary(finalLine(summary));
    // Exit 0 whether or not the goal is met: a benchmark reports, it does not gate.
    return 0;
  } catch (err) {
    // A run that broke has no figure; say why on stderr and exit non-zero.
    console.error(`benchmark "${name}" failed: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await cleanup.run();
  }
}

process.exit(await main(process.argv.slice(2)));
