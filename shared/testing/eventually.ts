/**
 * Waits until `check` holds, polling every 20 ms; throws when it still does not after
 * `timeoutMs`, so a test fails with a clear message rather than hanging on its own timeout.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 4_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
