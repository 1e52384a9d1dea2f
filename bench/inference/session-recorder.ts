import * as ort from 'onnxruntime-node';

/** One `session.run` as a task made it: the native session and the tensors it was given. */
export interface RecordedRun {
  session: ort.InferenceSession;
  feeds: ort.InferenceSession.FeedsType;
}

/**
 * Records every `InferenceSession.run` made while `fn` runs, by wrapping ONNX Runtime's own
 * prototype method: the tasks' sessions are created inside the tasks and not exposed, and
 * recording at this level captures exactly the tensors the tasks' preprocessing produced,
 * batch by batch, on the sessions they opened (same model, same options). Nothing in AEX's
 * code changes for the benchmark.
 */
export async function recordSessionRuns<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; runs: RecordedRun[] }> {
  // The factory's type hides that it is a class; its prototype holds `run`.
  const proto = (ort.InferenceSession as unknown as { prototype: unknown }).prototype as {
    run: (
      this: ort.InferenceSession,
      feeds: ort.InferenceSession.FeedsType,
      ...rest: unknown[]
    ) => Promise<unknown>;
  };
  const original = proto.run;
  const runs: RecordedRun[] = [];
  proto.run = function recordingRun(feeds, ...rest) {
    runs.push({ session: this, feeds });
    return original.call(this, feeds, ...rest);
  };
  try {
    return { result: await fn(), runs };
  } finally {
    proto.run = original;
  }
}

/** The baseline: the recorded runs replayed back to back, nothing else. Returns seconds. */
export async function replay(runs: readonly RecordedRun[]): Promise<number> {
  const started = performance.now();
  for (const run of runs) await run.session.run(run.feeds);
  return (performance.now() - started) / 1000;
}
