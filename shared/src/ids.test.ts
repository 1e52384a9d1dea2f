import { describe, expect, test } from 'bun:test';
import { deterministicId, Id, newId } from './ids.ts';

describe('ids', () => {
  test('newId gives time-ordered UUID v7s', async () => {
    const a = newId();
    await Bun.sleep(2);
    const b = newId();
    expect(Id.safeParse(a).success).toBe(true);
    expect(a[14]).toBe('7');
    expect(a < b).toBe(true);
  });

  test('deterministicId is a valid UUID v8, stable for the same parts, distinct otherwise', () => {
    const id = deterministicId('worker-tags', 'event-1', 'model');
    expect(Id.safeParse(id).success).toBe(true);
    expect(id[14]).toBe('8');
    expect(deterministicId('worker-tags', 'event-1', 'model')).toBe(id);
    expect(deterministicId('worker-tags', 'event-2', 'model')).not.toBe(id);
    // Part boundaries matter: ('ab','c') is not ('a','bc').
    expect(deterministicId('ab', 'c')).not.toBe(deterministicId('a', 'bc'));
  });
});
