/** A closed-loop load: `total` tasks, at most `concurrency` in flight, each timed on its own. */
export interface LoadResult {
  /** Per-task latency in ms, in completion order (failed tasks excluded). */
  latencies: number[];
  wallMs: number;
  ok: number;
  failed: number;
  /** Body bytes the successful tasks reported. */
  bytes: number;
  /** The first few failure messages. */
  errors: string[];
}

export async function runLoad(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<number>,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let next = 0;
  let failed = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      signal?.throwIfAborted();
      const index = next++;
      const started = performance.now();
      try {
        // Not `bytes += await task()`: that reads `bytes` before the await and loses concurrent updates.
        const got = await task(index);
        latencies.push(performance.now() - started);
        bytes += got;
      } catch (error) {
        failed += 1;
        if (errors.length < 5) errors.push(describeError(error));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, worker));
  return { latencies, wallMs: performance.now() - started, ok: latencies.length, failed, bytes, errors };
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 300);
}
