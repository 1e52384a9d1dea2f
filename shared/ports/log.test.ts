import { describe, expect, test } from 'bun:test';
import { type Logger, lazyChild } from './log.ts';

/** A logger that records its lines and the children made of it. */
function recorder(
  bindings: Record<string, unknown> = {},
  made: string[] = [],
  lines: Array<Record<string, unknown>> = [],
) {
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      lines.push({ level, ...bindings, ...(typeof obj === 'string' ? { msg: obj } : obj), msg });
    };
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child(more) {
      made.push(JSON.stringify(more));
      return recorder({ ...bindings, ...more }, made, lines).logger;
    },
  };
  return { logger, lines, made };
}

describe('lazyChild', () => {
  test('makes the child only when a line is written through it, once', () => {
    const parent = recorder();
    const log = lazyChild(parent.logger, { requestId: 'r1' });
    expect(parent.made).toEqual([]);
    log.warn({ a: 1 }, 'first');
    log.error('second');
    expect(parent.made).toEqual(['{"requestId":"r1"}']);
    expect(parent.lines.map((l) => [l.level, l.requestId])).toEqual([
      ['warn', 'r1'],
      ['error', 'r1'],
    ]);
  });

  test('a child of it carries both sets of bindings', () => {
    const parent = recorder();
    lazyChild(parent.logger, { requestId: 'r2' }).child({ task: 'tags' }).info('hello');
    expect(parent.lines[0]).toMatchObject({ requestId: 'r2', task: 'tags', level: 'info' });
  });
});
