import { describe, expect, test } from 'bun:test';
import { parseWorkerConfig } from './config.ts';

describe('worker config', () => {
  test('tasks and providers are validated with the variable named', () => {
    expect(parseWorkerConfig({ AEX_WORKER_TASKS: 'all' }).AEX_WORKER_TASKS).toEqual([
      'tags',
      'clip',
      'faces',
      'ocr',
    ]);
    expect(parseWorkerConfig({}).AEX_WORKER_TASKS).toHaveLength(4);
    expect(parseWorkerConfig({ AEX_WORKER_TASKS: 'none' }).AEX_WORKER_TASKS).toEqual([]);
    expect(parseWorkerConfig({ AEX_WORKER_TASKS: 'ocr, tags,ocr' }).AEX_WORKER_TASKS).toEqual([
      'ocr',
      'tags',
    ]);
    expect(() => parseWorkerConfig({ AEX_WORKER_TASKS: 'tags,ocr-magic' })).toThrow(
      /AEX_WORKER_TASKS: unknown task ocr-magic/,
    );
    expect(
      parseWorkerConfig({ AEX_EXECUTION_PROVIDERS: 'TensorRT, cuda,cpu' }).AEX_EXECUTION_PROVIDERS,
    ).toEqual(['tensorrt', 'cuda', 'cpu']);
    expect(() => parseWorkerConfig({ AEX_EXECUTION_PROVIDERS: 'cuda,rocm' })).toThrow(
      /AEX_EXECUTION_PROVIDERS: .*rocm/,
    );
  });

  test('batch size, batch wait and ack wait have defaults and units', () => {
    const defaults = parseWorkerConfig({});
    expect(defaults.AEX_WORKER_BATCH).toBe(8);
    expect(defaults.AEX_WORKER_BATCH_WAIT).toBe(50);
    expect(defaults.AEX_WORKER_ACK_WAIT).toBe(60_000);
    const set = parseWorkerConfig({
      AEX_WORKER_BATCH: '32',
      AEX_WORKER_BATCH_WAIT: '0.2s',
      AEX_WORKER_ACK_WAIT: '2m',
    });
    expect([set.AEX_WORKER_BATCH, set.AEX_WORKER_BATCH_WAIT, set.AEX_WORKER_ACK_WAIT]).toEqual([
      32, 200, 120_000,
    ]);
    expect(() =>
      parseWorkerConfig({ AEX_WORKER_BATCH: '0', AEX_WORKER_BATCH_WAIT: 'soon' }),
    ).toThrow(/AEX_WORKER_BATCH:[\s\S]*AEX_WORKER_BATCH_WAIT: must be a duration/);
  });
});
