import type { Logger } from '../ports/log.ts';

/** One captured log call. */
export interface LogLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** A Logger that records every line (children included) so tests can assert on what was said. */
export function capturingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: LogLine['level']) =>
      (obj: object | string, msg?: string): void => {
        if (typeof obj === 'string') lines.push({ level, msg: obj, fields: { ...bindings } });
        else lines.push({ level, msg, fields: { ...bindings, ...obj } });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { lines });
}
