import type { CleanupStack } from './cleanup.ts';
import type { Reporter } from './report.ts';

/**
 * The last line of every benchmark (CONVENTIONS rule 9): AEX's figure against a named
 * baseline measured in the same run on the same inputs, so the ratio — not a number of
 * milliseconds that depends on the machine — is what gets compared across machines.
 */
export interface Summary {
  name: string;
  unit: string;
  /** AEX's figure. */
  value: number;
  /** The baseline's figure, same unit, same run. */
  baseline: number;
  /** value / baseline (for "higher is better" units). */
  ratio: number;
  goal: number;
  baselineName: string;
  /** Anything else worth keeping next to the ratio (sizes, memory, counts). */
  [extra: string]: unknown;
}

export interface BenchContext {
  /** The arguments after the benchmark's name. */
  args: string[];
  report: Reporter;
  /** Runs on success, failure, Ctrl-C and SIGTERM: stop servers, delete temp dirs. */
  cleanup: CleanupStack;
}

/** What a `bench/<name>.bench.ts` module exports as default. */
export interface Benchmark {
  description: string;
  /** Flags and their defaults, printed by `--help`. */
  usage: string;
  run(ctx: BenchContext): Promise<Summary>;
}

/** The summary line with `pass` added; a benchmark reports, it never fails the command. */
export function finalLine(summary: Summary): Record<string, unknown> {
  const { name, unit, value, baseline, ratio, goal, baselineName, ...extra } = summary;
  return {
    name,
    unit,
    value,
    baseline,
    ratio,
    goal,
    pass: ratio >= goal,
    baselineName,
    ...extra,
  };
}
