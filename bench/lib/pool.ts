/**
 * Runs `task` over `items` with at most `concurrency` in flight, in order of start; the
 * first failure stops new starts and rejects once the tasks in flight have settled, so a
 * broken run never leaves work running behind the report. (Written here rather than
 * importing p-limit because the root package declares no runtime dependencies.)
 */
export async function forEachPooled<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        await task(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker),
  );
  if (failure) throw failure.error;
}
