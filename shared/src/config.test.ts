import { describe, expect, test } from 'bun:test';
import { z } from 'zod';
import { ConfigError, envBoolean, envBytes, envPort, envUrl, parseEnv } from './config.ts';

const Schema = z.object({
  PORT: envPort.default(8080),
  MAX: envBytes.default(1024),
  FLAG: envBoolean.default(false),
  URL: envUrl(['postgres']).optional(),
});

describe('parseEnv', () => {
  test('defaults apply when variables are unset or empty', () => {
    expect(parseEnv(Schema, { PORT: '', FLAG: '  ' })).toEqual({
      PORT: 8080,
      MAX: 1024,
      FLAG: false,
    });
  });

  test('values are parsed and trimmed', () => {
    const env = { PORT: ' 9000 ', MAX: '200M', FLAG: 'yes', URL: 'postgres://u@h/db' };
    expect(parseEnv(Schema, env)).toEqual({
      PORT: 9000,
      MAX: 200 * 1024 ** 2,
      FLAG: true,
      URL: 'postgres://u@h/db',
    });
  });

  test('every bad variable is listed with its name and value', () => {
    const env = { PORT: '70000', MAX: 'lots', FLAG: 'maybe', URL: 'mysql://h/db' };
    let error: unknown;
    try {
      parseEnv(Schema, env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.find((p) => p.startsWith('PORT:'))).toContain('"70000"');
    expect(problems.find((p) => p.startsWith('MAX:'))).toContain('200M');
    expect(problems.find((p) => p.startsWith('FLAG:'))).toContain('"maybe"');
    expect(problems.find((p) => p.startsWith('URL:'))).toContain('postgres');
    expect((error as Error).message).toContain('PORT');
  });

  test("a secret's value is never echoed in the problem", () => {
    const Secrets = z.object({ ADMIN_PASSWORD: z.string().min(12), API_TOKEN: z.string().min(9) });
    let error: unknown;
    try {
      parseEnv(Secrets, { ADMIN_PASSWORD: 'hunter2', API_TOKEN: 'shorttok' });
    } catch (err) {
      error = err;
    }
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems.find((p) => p.startsWith('ADMIN_PASSWORD:'))).toBeDefined();
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problems.join('\n')).not.toContain('shorttok');
  });
});

describe('envBytes', () => {
  test.each([
    ['1048576', 1048576],
    ['500k', 500 * 1024],
    ['200M', 200 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
    ['1.5g', 1.5 * 1024 ** 3],
    ['10MiB', 10 * 1024 ** 2],
  ])('%s → %d bytes', (text, bytes) => {
    expect(envBytes.parse(text)).toBe(bytes);
  });

  test.each(['', '-1', 'ten', '5T', '1 2'])('rejects %p', (text) => {
    expect(envBytes.safeParse(text).success).toBe(false);
  });
});
