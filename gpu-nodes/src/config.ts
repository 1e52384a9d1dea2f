import {
  BlobStoreEnv,
  EventBusEnv,
  envDuration,
  envLogLevel,
  envPort,
  InferenceTaskName,
  parseEnv,
} from '@aex/shared';
import { z } from 'zod';
import { type ExecutionProvider, parseExecutionProviders } from './inference/onnx-session.ts';

/** Tasks a worker can run; `AEX_WORKER_TASKS` picks some, `none` runs none. */
export const WORKER_TASKS = InferenceTaskName.options;
export type WorkerTask = InferenceTaskName;

const tasks = z.string().transform((value, ctx) => {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [] as WorkerTask[];
  if (names.length === 1 && names[0] === 'all') return [...WORKER_TASKS];
  const unknown = names.filter((n) => !(WORKER_TASKS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown task ${unknown.join(', ')}; use all, none, or a list of ${WORKER_TASKS.join(', ')}`,
    });
    return z.NEVER;
  }
  return [...new Set(names)] as WorkerTask[];
});

/** The worker's environment. */
export const WorkerEnv = z.object({
  AEX_DATA_DIR: z.string().default('./data'),
  /** Model files; default `<AEX_DATA_DIR>/models`. */
  AEX_MODEL_DIR: z.string().optional(),
  /** ONNX Runtime execution providers, tried in order. */
  AEX_EXECUTION_PROVIDERS: z
    .string()
    .default('cpu')
    .transform((value, ctx): ExecutionProvider[] => {
      try {
        return parseExecutionProviders(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  AEX_WORKER_TASKS: tasks.default([...WORKER_TASKS]),
  /** Batches in flight per task: one can read and decode previews while another runs. */
  AEX_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Most images per batch (B). */
  AEX_WORKER_BATCH: z.coerce.number().int().min(1).max(1024).default(8),
  /** Longest wait to fill a batch once its first image is in hand (T). */
  AEX_WORKER_BATCH_WAIT: envDuration.pipe(z.number().min(0).max(60_000)).default(50),
  /** A job not acknowledged (nor reported as in progress) this long goes to another worker. */
  AEX_WORKER_ACK_WAIT: envDuration.pipe(z.number().min(1_000).max(3_600_000)).default(60_000),
  /** Health endpoint port when the worker runs alone (`aex serve worker`). */
  WORKER_PORT: envPort.default(8082),
  LOG_LEVEL: envLogLevel.default('info'),
  ...BlobStoreEnv.shape,
  ...EventBusEnv.shape,
});
export type WorkerConfig = z.infer<typeof WorkerEnv>;

/** Parses the worker's environment once at start; throws ConfigError listing every bad variable. */
export function parseWorkerConfig(env: Record<string, string | undefined>): WorkerConfig {
  return parseEnv(WorkerEnv, env);
}
