/**
 * A pool of workers pulling items from a source until it runs dry, as many as `limit()` says:
 * `resize()` (or any item's end) starts workers when it grew; when it shrank, workers exit after
 * their current item. The first failure stops the pool: no new items are taken, in-flight handlers see their signal abort, and once all
 * have settled the pool rejects with that first error.
 */
export interface PoolOptions {
  /** Workers wanted; read at the start, after every item and on `resize()`. At least 1 is kept. */
  limit: () => number;
  /** Graceful stop: no new items are taken; handlers already running finish normally. */
  stop?: AbortSignal;
}

export type PoolHandler<T> = (item: T, signal: AbortSignal) => Promise<void>;

export class WorkerPool<T> {
  private active = 0;
  private drained = false;
  private started = false;
  private readonly failed = new AbortController();
  private firstError: { error: unknown } | undefined;
  private settle: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  constructor(
    private readonly next: () => Promise<T | undefined>,
    private readonly handle: PoolHandler<T>,
    private readonly opts: PoolOptions,
  ) {}

  /** Runs until the source is dry (or the stop signal, or the first failure) and every worker has exited. */
  run(): Promise<void> {
    if (this.started) throw new Error('a pool runs once');
    this.started = true;
    return new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
      this.resize();
      this.finishIfIdle();
    });
  }

  /** Starts workers up to the limit (call it when the limit grew). */
  resize(): void {
    if (!this.started) return;
    while (!this.stopped() && !this.drained && this.active < this.limit()) {
      this.active++;
      void this.work();
    }
  }

  private limit(): number {
    const n = Math.floor(this.opts.limit());
    return Number.isFinite(n) && n >= 1 ? n : 1;
  }

  private stopped(): boolean {
    return this.failed.signal.aborted || this.opts.stop?.aborted === true;
  }

  private async work(): Promise<void> {
    try {
      // More workers than the limit: this one leaves (checked and counted down in one turn).
      while (!this.stopped() && !this.drained && this.active <= this.limit()) {
        let item: T | undefined;
        try {
          item = await this.next();
        } catch (error) {
          this.fail(error);
          return;
        }
        if (item === undefined) {
          this.drained = true;
          return;
        }
        if (this.stopped()) return;
        try {
          await this.handle(item, this.failed.signal);
        } catch (error) {
          this.fail(error);
          return;
        }
        this.resize();
      }
    } finally {
      this.active--;
      this.finishIfIdle();
    }
  }

  private fail(error: unknown): void {
    if (this.firstError) return;
    this.firstError = { error };
    this.failed.abort(error);
  }

  private finishIfIdle(): void {
    if (this.active > 0 || !this.settle) return;
    if (!this.stopped() && !this.drained) {
      // Every worker left on a shrink that a resize did not follow: keep one going.
      this.resize();
      if (this.active > 0) return;
    }
    const { resolve, reject } = this.settle;
    this.settle = undefined;
    if (this.firstError) reject(this.firstError.error);
    else resolve();
  }
}

/** A pool of a fixed `concurrency`. */
export async function runPool<T>(next: () => Promise<T | undefined>, handle: PoolHandler<T>, opts: { concurrency: number; stop?: AbortSignal }): Promise<void> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const { concurrency } = opts;
  await new WorkerPool(next, handle, { limit: () => concurrency, ...(opts.stop ? { stop: opts.stop } : {}) }).run();
}
