import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreEnv } from '@aex/core';
import { EdgeEnv } from '@aex/edge';
import { WORKER_CONSUMERS, WorkerEnv } from '@aex/gpu-nodes';
import { REPO_ROOT } from '@aex/shared/testing/processes';
import { parse } from '@cdktf/hcl2json';

// The job specs against the code they run: a renamed environment variable, port, health
// path or command breaks this test, not a deploy. HCL is read with HashiCorp's own parser
// (hcl2json); `nomad job validate` runs too where nomad is installed.

const DIR = import.meta.dir;
const VAR_FILE = join(DIR, 'aex.vars.hcl');

/** A block as hcl2json gives it: blocks are arrays, labelled blocks maps of arrays. */
type Block = { [key: string]: unknown };
const blocks = (b: Block, key: string) => (b[key] ?? []) as Block[];
const first = (b: Block, key: string) => blocks(b, key)[0] ?? {};
const labelled = (b: Block, key: string, label: string) =>
  ((b[key] ?? {}) as Record<string, Block[]>)[label]?.[0] ?? {};

interface Service {
  role: 'core' | 'edge' | 'worker';
  env: { shape: Record<string, { parse(value: unknown): unknown }> };
  portVar: string;
  healthPaths: string[];
  secrets: string[];
  minCount: number;
}

const SERVICES: Record<string, Service> = {
  'aex-core': {
    role: 'core',
    env: CoreEnv,
    portVar: 'CORE_PORT',
    healthPaths: ['/healthz', '/readyz'],
    secrets: [
      'DATABASE_URL',
      'NATS_URL',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
      'AEX_URL_SIGNING_KEY',
    ],
    minCount: 2,
  },
  'aex-edge': {
    role: 'edge',
    env: EdgeEnv,
    portVar: 'PORT',
    healthPaths: ['/healthz'],
    secrets: ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'AEX_URL_SIGNING_KEY', 'AEX_NATS_WS_URL'],
    minCount: 2,
  },
  'aex-gpu-worker': {
    role: 'worker',
    env: WorkerEnv,
    portVar: 'WORKER_PORT',
    healthPaths: ['/'],
    secrets: ['NATS_URL', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
    minCount: 1,
  },
};

const FILES = readdirSync(DIR).filter((f) => f.endsWith('.nomad.hcl'));
const SPECS = await Promise.all(
  FILES.map(async (file) => ({
    file,
    spec: (await parse(file, readFileSync(join(DIR, file), 'utf8'))) as Block,
  })),
);
const VARS = (await parse('aex.vars.hcl', readFileSync(VAR_FILE, 'utf8'))) as Block;

/** An interpolation as hcl2json writes it: `ref('var.image')` is the text `${var.image}`. */
const ref = (expression: string) => `$\{${expression}}`;

/** `${var.x}`, `${var.x}M` and `${var.x + 512}` with each variable's default. */
function resolve(spec: Block, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const defaults = (name: string) => labelled(spec, 'variable', name).default;
  const whole = /^\$\{var\.(\w+)(?: \+ (\d+))?\}$/.exec(value);
  if (whole?.[1]) return Number(defaults(whole[1])) + Number(whole[2] ?? 0);
  return value.replace(/\$\{var\.(\w+)\}/g, (_, name: string) => String(defaults(name)));
}

/** Milliseconds of a Nomad duration such as `90s`, `2m` or `1m30s`. */
function durationMs(value: unknown): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  for (const [, n, unit] of String(value).matchAll(/(\d+)(ms|s|m|h)/g)) {
    ms += Number(n) * (units[unit ?? 's'] ?? 0);
  }
  return ms;
}

/** Names a task's `env` block and its env templates set. */
function envNames(task: Block): { block: string[]; templated: string[] } {
  const templated = blocks(task, 'template')
    .filter((t) => t.env === true)
    .flatMap((t) =>
      [...String(t.data).matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''),
    );
  return { block: Object.keys(first(task, 'env')), templated: [...new Set(templated)] };
}

/** A job's spec, its only group and its only task. */
function specOf(name: string) {
  const found = SPECS.find(({ spec }) => name in (spec.job as Block));
  const job = labelled(found?.spec ?? {}, 'job', name);
  const group = Object.values((job.group ?? {}) as Record<string, Block[]>)[0]?.[0] ?? {};
  const task = Object.values((group.task ?? {}) as Record<string, Block[]>)[0]?.[0] ?? {};
  const env = first(task, 'env');
  return {
    file: found?.file ?? `${name}.nomad.hcl`,
    spec: found?.spec ?? {},
    job,
    group,
    task,
    env,
  };
}

test('there is one spec per service, and nothing else', () => {
  const jobs = SPECS.flatMap(({ spec }) => Object.keys(spec.job as Block));
  expect(jobs.sort()).toEqual(Object.keys(SERVICES).sort());
});

for (const [name, service] of Object.entries(SERVICES)) {
  const { file, spec, job, group, task } = specOf(name);
  const groups = Object.values((job.group ?? {}) as Record<string, Block[]>);
  const tasks = Object.values((group.task ?? {}) as Record<string, Block[]>);
  const config = first(task, 'config');
  const svc = first(group, 'service');

  describe(`${file}`, () => {
    test(`runs one docker task: aex serve ${service.role} from the versioned image`, () => {
      expect(job.type).toBe('service');
      expect([groups.length, tasks.length]).toEqual([1, 1]);
      expect(task.driver).toBe('docker');
      expect(config.image).toBe(`${ref('var.image')}:${ref('var.version')}`);
      expect(config.command).toBe('bun');
      expect(config.args).toEqual(['core/bin/aex.ts', 'serve', service.role]);
      expect(existsSync(join(REPO_ROOT, String((config.args as string[])[0])))).toBe(true);
    });

    test('sets only environment variables the service reads', () => {
      const { block, templated } = envNames(task);
      const known = Object.keys(service.env.shape);
      expect([...block, ...templated].filter((n) => !known.includes(n))).toEqual([]);
      expect(templated.length).toBeGreaterThan(0);
    });

    test('takes its secrets from its own Nomad Variable, documented in README.md', () => {
      const { block, templated } = envNames(task);
      const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
      const put = readme
        .slice(readme.indexOf(`nomad var put nomad/jobs/${name} `))
        .split('\n\n')[0];
      for (const secret of service.secrets) {
        expect(block).not.toContain(secret);
        expect(templated).toContain(secret);
        expect(put).toContain(`${secret}=`);
      }
      const secretTemplates = blocks(task, 'template').filter((t) =>
        String(t.data).includes('nomadVar'),
      );
      expect(secretTemplates.map((t) => String(t.data).match(/nomadVar "([^"]+)"/)?.[1])).toEqual([
        `nomad/jobs/${name}`,
      ]);
      expect(secretTemplates[0]?.destination).toStartWith('secrets/');
    });

    test(`listens on ${service.portVar}'s default port`, () => {
      const [label, port] =
        Object.entries(first(group, 'network').port as Record<string, Block[]>)[0] ?? [];
      expect(port?.[0]?.to).toBe(Number(service.env.shape[service.portVar]?.parse(undefined)));
      expect(envNames(task).block).not.toContain(service.portVar);
      expect(config.ports).toEqual([label]);
      expect(svc.port).toBe(label);
    });

    test(`registers ${name} with http checks on ${service.healthPaths.join(' and ')}`, () => {
      expect(svc.name).toBe(name);
      expect(svc.provider).toBe('nomad');
      // check_restart then restarts the task, not the whole allocation.
      expect(svc.task).toBe(Object.keys(group.task as Block)[0]);
      const checks = blocks(svc, 'check');
      expect(checks.map((c) => c.path).sort()).toEqual([...service.healthPaths].sort());
      for (const check of checks) {
        expect(check.type).toBe('http');
        expect(durationMs(check.timeout)).toBeLessThan(durationMs(check.interval));
      }
      // Only liveness restarts a task: a core whose database is down is not made healthier
      // by a restart.
      const restarting = checks.filter((c) => blocks(c, 'check_restart').length > 0);
      expect(restarting.map((c) => c.path)).not.toContain('/readyz');
    });

    test('rolls out one allocation at a time, gated on checks, reverting a failed deploy', () => {
      const update = first(job, 'update');
      expect(update.max_parallel).toBe(1);
      expect(update.health_check).toBe('checks');
      expect(update.auto_revert).toBe(true);
      expect(resolve(spec, group.count)).toBeGreaterThanOrEqual(service.minCount);
      expect(durationMs(task.kill_timeout)).toBeGreaterThan(0);
    });

    test('declares every variable of the shared var-file, and the var-file sets every required one', () => {
      const declared = Object.entries(spec.variable as Record<string, Block[]>);
      const required = declared.filter(([, [v]]) => v && !('default' in v)).map(([n]) => n);
      const shared = Object.keys(VARS);
      expect(shared.filter((n) => !declared.some(([d]) => d === n))).toEqual([]);
      expect(required.filter((n) => !shared.includes(n))).toEqual([]);
    });
  });
}

describe('aex-edge.nomad.hcl', () => {
  const { spec, group, task, env } = specOf('aex-edge');

  test('finds core through Nomad service discovery', () => {
    const coreService = first(specOf('aex-core').group, 'service').name;
    const data = blocks(task, 'template').map((t) => String(t.data));
    const discovery = data.find((d) => d.includes('CORE_URL='));
    expect(discovery).toContain(`nomadService 1 (env "NOMAD_ALLOC_ID") "${coreService}"`);
    expect(env.CORE_URL).toBeUndefined();
  });

  test('keeps the thumbnail cache on an ephemeral disk larger than its cap', () => {
    const cap = Number(
      EdgeEnv.shape.AEX_CACHE_MAX_BYTES.parse(resolve(spec, env.AEX_CACHE_MAX_BYTES)),
    );
    const disk = first(group, 'ephemeral_disk');
    const diskBytes = Number(resolve(spec, disk.size)) * 1024 ** 2;
    expect(cap).toBeGreaterThan(0);
    expect(diskBytes).toBeGreaterThan(cap);
    expect(diskBytes).toBeLessThan(cap * 2);
    expect(disk.sticky).toBe(true);
    expect(String(env.AEX_CACHE_DIR)).toStartWith(`${ref('NOMAD_ALLOC_DIR')}/`);
  });
});

describe('aex-gpu-worker.nomad.hcl', () => {
  const { group, task, env } = specOf('aex-gpu-worker');

  test('takes one NVIDIA GPU and tries TensorRT, then CUDA, then the CPU', () => {
    const device = labelled(first(task, 'resources'), 'device', 'nvidia/gpu');
    expect(device.count).toBe(1);
    expect(env.AEX_EXECUTION_PROVIDERS).toBe('tensorrt,cuda,cpu');
  });

  test('keeps models on a host volume, so each host downloads them once', () => {
    const mount = first(task, 'volume_mount');
    const volume = labelled(group, 'volume', String(mount.volume));
    expect(volume.type).toBe('host');
    expect(volume.read_only).toBe(false);
    expect(env.AEX_MODEL_DIR).toBe(mount.destination);
  });

  test('gives SIGTERM time to finish the jobs in flight', () => {
    expect(task.kill_signal).toBe('SIGTERM');
    expect(durationMs(task.kill_timeout)).toBeGreaterThanOrEqual(30_000);
    // Nomad caps kill_timeout at the client's max_kill_timeout (30s unless raised).
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const cap = /max_kill_timeout = "(\w+)"/.exec(readme)?.[1];
    expect(durationMs(cap)).toBeGreaterThanOrEqual(durationMs(task.kill_timeout));
  });

  test("scales between worker_min and worker_max on its consumer's backlog", () => {
    const scaling = first(group, 'scaling');
    expect(scaling.enabled).toBe(true);
    expect([scaling.min, group.count]).toEqual([ref('var.worker_min'), ref('var.worker_min')]);
    expect(scaling.max).toBe(ref('var.worker_max'));
    const check = Object.values(first(scaling, 'policy').check as Record<string, Block[]>)[0]?.[0];
    expect(String(check?.query)).toContain(`consumer_name="${WORKER_CONSUMERS.tags}"`);
  });
});

const NOMAD = Bun.which('nomad');
describe.skipIf(!NOMAD)(
  NOMAD ? 'nomad job validate' : 'nomad job validate (skipped: nomad not on PATH)',
  () => {
    test.each(FILES)('%s', (file) => {
      const run = Bun.spawnSync([
        NOMAD ?? 'nomad',
        'job',
        'validate',
        `-var-file=${VAR_FILE}`,
        join(DIR, file),
      ]);
      expect(run.exitCode, run.stdout.toString() + run.stderr.toString()).toBe(0);
    });
  },
);
