// Passwords are hashed with Bun's built-in argon2id (`Bun.password`), not an npm package:
// the runtime already ships a maintained, native implementation (the reference C code), so a
// library would add a native build or a slower WASM copy of the same algorithm for nothing.
// Its defaults (64 MiB, 2 iterations) meet OWASP's argon2id recommendation (≥ 19 MiB, 2).

/** A PHC-format argon2id hash of `password` (`$argon2id$v=19$m=65536,t=2,p=1$…`). */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id' });
}

/** Whether `password` matches `hash`; false (never a throw) for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/** Makes the hash `verifyAgainstNothing` checks against, so the first unknown email is not slower. */
export async function prepareDummyHash(): Promise<void> {
  dummyHash ??= hashPassword(crypto.randomUUID());
  await dummyHash;
}

/**
 * Spends the time a real verification takes, for a login naming no user: without it a wrong
 * email answers in microseconds and a wrong password in tens of milliseconds, and the
 * difference tells an attacker which emails have accounts.
 */
export async function verifyAgainstNothing(password: string): Promise<false> {
  await prepareDummyHash();
  await verifyPassword(password, (await dummyHash) ?? '');
  return false;
}

// No look-alikes (0/O, 1/l/I) so the password survives being read off a terminal and typed.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A random password of `length` characters from a 57-letter alphabet: 24 characters carry
 * ~140 bits. Bytes that would bias the choice are dropped (rejection sampling).
 */
export function generatePassword(length = 24): string {
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && out.length < length) out += ALPHABET[byte % ALPHABET.length];
    }
  }
  return out;
}
