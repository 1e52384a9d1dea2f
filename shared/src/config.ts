import { z } from 'zod';

/** Thrown when environment variables are invalid; `problems` names each bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Variables whose values are secrets (passwords, tokens, keys). */
const SECRET_NAME = /(PASSWORD|SECRET|TOKEN|_KEY)(_|$)/;

/**
 * Parses environment variables with a zod object whose keys are the variable names.
 * Every problem is collected, so a user fixes them all in one go. Empty strings count as
 * unset, as shells make `FOO=` easy to write by accident.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const given = typeof issue.path[0] === 'string' ? input[issue.path[0]] : undefined;
      // A secret's value is never echoed: config errors land in terminals and log collectors.
      if (given !== undefined && SECRET_NAME.test(name)) return `${name}: ${issue.message}`;
      return `${name}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
    }),
  );
}

/** An environment flag: `1/true/yes/on` or `0/false/no/off`. */
export const envBoolean = z.string().transform((v, ctx) => {
  const s = v.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: 'must be one of 1, 0, true, false, yes, no, on, off' });
  return z.NEVER;
});

/** A TCP port number. */
export const envPort = z.coerce.number().int().min(0).max(65535);

/** A duration in milliseconds: a bare number, or one with an `ms`, `s`, `m`, `h` or `d` suffix (`24h`). */
export const envDuration = z.string().transform((v, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like 500ms, 30s, 15m, 24h or 7d' });
    return z.NEVER;
  }
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(Number(m[1]) * unit);
});

/** A byte size: a number with an optional k/M/G suffix (powers of 1024), e.g. `200M`. */
export const envBytes = z.string().transform((v, ctx) => {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?$/.exec(v);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: 'must be a size like 1048576, 500k, 200M or 2G' });
    return z.NEVER;
  }
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * unit);
});

/** A URL with one of the given protocols. */
export function envUrl(protocols: string[]) {
  return z.url().refine((v) => protocols.includes(new URL(v).protocol.replace(':', '')), {
    message: `must be a URL with protocol ${protocols.join(' or ')}`,
  });
}

/** Log levels the services understand. */
export const envLogLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * Blob store settings shared by every service: S3 when `S3_BUCKET` is set, else a directory.
 * Only the variable names and their checks live here; each service builds its own config.
 */
export const BlobStoreEnv = z.object({
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ENDPOINT: envUrl(['http', 'https']).optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: envBoolean.default(true),
  S3_PREFIX: z.string().default(''),
});
export type BlobStoreEnv = z.infer<typeof BlobStoreEnv>;

/** Event bus settings: NATS JetStream when `NATS_URL` is set, else the embedded bus. */
export const EventBusEnv = z.object({
  NATS_URL: envUrl(['nats', 'tls', 'ws', 'wss']).optional(),
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('AEX'),
  /**
   * First token of every subject on the wire (`aex.image.ingested`). Another prefix lets
   * several AEX installations (or test runs) share one NATS cluster without overlapping.
   */
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default('aex'),
});
export type EventBusEnv = z.infer<typeof EventBusEnv>;
