/** What the helpers below need of a `Bun.spawn` result with piped output. */
interface Child {
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | number | null;
  readonly exited: Promise<number>;
  kill(signal?: NodeJS.Signals | number): void;
}

/**
 * Drains both pipes of `child` (a full pipe would block it) and keeps its last `keep` lines,
 * to print when it fails. Returns the kept lines, live.
 */
export function keepLastLines(child: Child, keep: number): string[] {
  const lines: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      lines.push(...decoder.decode(chunk, { stream: true }).split('\n').filter(Boolean));
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    }
  };
  void drain(child.stdout);
  void drain(child.stderr);
  return lines;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (at once if it ended). */
export async function stopChild(child: Child, graceMs: number): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? 1;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(timer);
  return code;
}
