import { spawnSync } from 'node:child_process';
import { arch, availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { resolve } from 'node:path';

const REPO_ROOT = resolve(import.meta.dir, '../..');

function command(cmd: string, args: string[]): string | null {
  try {
    const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/**
 * What a figure depends on, printed before it, so two results can be told apart: a ratio
 * from a 2-core VM and one from a 32-core workstation are different facts. `dirty` marks a
 * run on uncommitted code, whose commit alone does not say what was measured.
 */
export function machineFacts(): Record<string, unknown> {
  const cpu = cpus()[0];
  const status = command('git', ['status', '--porcelain']);
  return {
    cpuModel: cpu?.model ?? 'unknown',
    cpuMHz: cpu?.speed ?? null,
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    os: `${type()} ${release()} ${arch()}`,
    // Load before the run: a busy machine explains a surprising figure.
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    bun: typeof Bun === 'undefined' ? null : Bun.version,
    // Bun reports the Node.js API level it implements; the `node` binary may differ.
    nodeCompat: process.versions.node,
    node: command('node', ['--version']),
    gitCommit: command('git', ['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    startedAt: new Date().toISOString(),
  };
}
