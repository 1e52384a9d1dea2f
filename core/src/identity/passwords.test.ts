import { describe, expect, test } from 'bun:test';
import {
  generatePassword,
  hashPassword,
  verifyAgainstNothing,
  verifyPassword,
} from './passwords.ts';

describe('passwords', () => {
  test('argon2id hashes verify the password and nothing else', async () => {
    const hash = await hashPassword('pässwörd with ünïcode \u0000 and a NUL');
    expect(hash).toStartWith('$argon2id$');
    expect(await verifyPassword('pässwörd with ünïcode \u0000 and a NUL', hash)).toBe(true);
    expect(await verifyPassword('pässwörd with ünïcode', hash)).toBe(false);
    // The same password hashes differently each time (a random salt).
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  test('a malformed stored hash is a mismatch, not a crash', async () => {
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
    expect(await verifyPassword('x', '')).toBe(false);
    expect(await verifyAgainstNothing('x')).toBe(false);
  });

  test('generated passwords: 24 unambiguous characters, all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{24}$/);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
    expect(generatePassword(40)).toHaveLength(40);
  });
});
