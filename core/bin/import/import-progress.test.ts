import { describe, expect, test } from 'bun:test';
import { ImportProgress } from './import-progress.ts';

/** A stream that keeps what is written, as a log (not a terminal) would get it. */
function logStream(tty = false) {
  const lines: string[] = [];
  const stream = {
    isTTY: tty,
    write: (text: string) => {
      lines.push(text);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('ImportProgress', () => {
  test('counts files, uploads and bytes; the share done is by bytes', () => {
    const { stream } = logStream();
    const p = new ImportProgress(4, 100, { stream });
    p.settled(10); // already in
    p.settled(40, true); // uploaded
    const line = p.line(performance.now() + 2000);
    expect(line).toMatch(
      /^importing 2\/4 files \(50%\), 1 uploaded, [\d.]+ images\/s, [\d.]+ MB\/s, /,
    );
    expect(line).toMatch(/ETA \d+s, elapsed 2s$/);
  });

  test('a log gets a line when the last file settles, a terminal gets the bar redrawn', () => {
    const log = logStream();
    const p = new ImportProgress(2, 20, { stream: log.stream });
    p.settled(10, true);
    p.settled(10, true);
    expect(log.lines.at(-1)).toMatch(/^importing 2\/2 files \(100%\), 2 uploaded, .*ETA 0s/);
    expect(log.lines.at(-1)?.endsWith('\n')).toBe(true);

    const tty = logStream(true);
    const q = new ImportProgress(1, 10, { stream: tty.stream });
    q.settled(10, true);
    q.done();
    // Carriage return and erase-line, then the line with a full bar.
    expect(
      tty.lines[0]?.startsWith('\r\x1b[2Kimporting [########################] 1/1 files'),
    ).toBe(true);
    expect(tty.lines.at(-1)).toBe('\n');
  });

  test('a dry run reports files checked per second and bytes read', () => {
    const { stream } = logStream();
    const p = new ImportProgress(3, 30, { stream, dryRun: true });
    p.settled(10);
    expect(p.line()).toMatch(
      /^checking 1\/3 files \(33%\), [\d.]+ files\/s, [\d.]+ MB\/s read, ETA/,
    );
  });

  test('nothing settled yet: the ETA is unknown, not zero', () => {
    const { stream } = logStream();
    expect(new ImportProgress(5, 50, { stream }).line()).toContain('ETA ?');
  });
});
