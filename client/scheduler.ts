/**
 * A fixed pool of `concurrency` workers pulling items from a source until it runs dry. Each
 * worker has a stable slot number (so it can own a reusable buffer). The first failure stops the
 * pool: no new items are taken, in-flight handlers see their signal abort, and once all have
 * settled the pool rejects with that first error.
 */
export interface PoolOptions {
  concurrency: number;
  /** Graceful stop: no new items are taken; handlers already running finish normally. */
  stop?: AbortSignal;
}

export async function runPool<T>(
  next: () => Promise<T | undefined>,
  handle: (item: T, slot: number, signal: AbortSignal) => Promise<void>,
  opts: PoolOptions,
): Promise<void> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const failed = new AbortController();
  let firstError: { error: unknown } | undefined;
  const stopped = () => failed.signal.aborted || opts.stop?.aborted === true;

  const worker = async (slot: number): Promise<void> => {
    while (!stopped()) {
      let item: T | undefined;
      try {
        item = await next();
      } catch (error) {
        fail(error);
        return;
      }
      if (item === undefined || stopped()) return;
      try {
        await handle(item, slot, failed.signal);
      } catch (error) {
        fail(error);
        return;
      }
    }
  };
  const fail = (error: unknown) => {
    if (!firstError) {
      firstError = { error };
      failed.abort(error);
    }
  };

  await Promise.all(Array.from({ length: opts.concurrency }, (_, slot) => worker(slot)));
  if (firstError) throw firstError.error;
}
