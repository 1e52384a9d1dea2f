/**
 * stdout carries only JSON lines, one object each, so `npm run bench -- x | tail -1 | jq`
 * and CI parsers never meet a progress bar or a log line; humans read stderr.
 */
export interface Reporter {
  /** One JSON line on stdout, `type` first so lines are easy to filter. */
  line(type: string, fields: Record<string, unknown>): void;
  /** The raw final line (already shaped by `finalLine`). */
  summary(fields: Record<string, unknown>): void;
  /** A human note on stderr. */
  note(text: string): void;
}

export function jsonLineReporter(
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Reporter {
  return {
    line(type, fields) {
      out(`${JSON.stringify({ type, ...fields })}\n`);
    },
    summary(fields) {
      out(`${JSON.stringify(fields)}\n`);
    },
    note(text) {
      err(`${text}\n`);
    },
  };
}

/** Rounds for reports: enough digits to compare runs, not float noise. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const MiB = 1024 * 1024;
