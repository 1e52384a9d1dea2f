import pino from 'pino';

/**
 * The logging port: JSON lines on stdout (pino). Services log through this type, so a test
 * can hand in a silent or capturing logger.
 */
export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/**
 * A JSON-lines logger. `service` names the service on every line; leave it out when several
 * services share the process and each logs through a child that names itself.
 */
export function createLogger(service: string | undefined, level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: service ? { service } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }) as unknown as Logger;
}

/** A logger that drops everything. */
export function silentLogger(): Logger {
  return createLogger('silent', 'silent');
}

/**
 * A child of `parent` with `bindings`, made on its first use. A request's logger is made for
 * every request but used by few of them (pino serialises a child's bindings when it is made,
 * a cost the edge would pay on every cached thumbnail it serves).
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const made = (): Logger => {
    child ??= parent.child(bindings);
    return child;
  };
  return {
    trace: (obj, msg) => made().trace(obj, msg),
    debug: (obj, msg) => made().debug(obj, msg),
    info: (obj, msg) => made().info(obj, msg),
    warn: (obj, msg) => made().warn(obj, msg),
    error: (obj, msg) => made().error(obj, msg),
    fatal: (obj, msg) => made().fatal(obj, msg),
    child: (more) => made().child(more),
  };
}
