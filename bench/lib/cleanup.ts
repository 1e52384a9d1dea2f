/**
 * Last-in-first-out cleanup that runs exactly once, whether the benchmark ends, throws,
 * or is interrupted: a stray `aex serve` or a gigabyte of fixtures left in /tmp would skew
 * the next run on the same machine.
 */
export class CleanupStack {
  private readonly steps: Array<{ label: string; fn: () => Promise<unknown> | unknown }> = [];
  private running: Promise<void> | undefined;

  add(label: string, fn: () => Promise<unknown> | unknown): void {
    this.steps.push({ label, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.fn();
        } catch (err) {
          process.stderr.write(`cleanup "${step.label}" failed: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }

  /** On SIGINT/SIGTERM: clean up, then exit with the conventional 128 + signal number. */
  onSignals(): void {
    const handle = (signal: NodeJS.Signals, code: number) => {
      process.stderr.write(`\n${signal}: stopping and cleaning up…\n`);
      void this.run().finally(() => process.exit(code));
    };
    process.once('SIGINT', () => handle('SIGINT', 130));
    process.once('SIGTERM', () => handle('SIGTERM', 143));
  }
}
