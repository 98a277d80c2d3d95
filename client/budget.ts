import { DEFAULTS } from '../contract/limits.js';
import { buffersWithin, type ConcurrencySetting } from './engine/worker-count.js';

/**
 * The slots of a directory run. Fixed `--concurrency N`: N. `'auto'`: as many part buffers as the
 * memory budget holds (at most the engine's maximum): each file adapts within the slots it holds,
 * a large file can grow to all of them, and up to that many small files run at once.
 */
export function treeBudget(concurrency: ConcurrencySetting, maxMemory: number | undefined, partSize: number): number {
  if (concurrency !== 'auto') return concurrency;
  return Math.min(DEFAULTS.maxConcurrency, buffersWithin(maxMemory ?? DEFAULTS.maxMemory, partSize));
}

/**
 * The run's worker budget: at most `size` part uploads in flight across every file of a
 * directory run. A file takes the slots it will use (its own concurrency) before it starts and
 * gives them back when it ends, first come first served, so a large file waits for room rather
 * than overtaking, and many small files fill the slots one each.
 */
export class WorkerBudget {
  private free: number;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('budget must be a positive integer');
    this.free = size;
  }

  /** Waits for `n` slots (at most the budget); resolves with the function that returns them. */
  async take(n: number): Promise<() => void> {
    const want = Math.min(Math.max(1, n), this.size);
    if (this.waiting.length === 0 && this.free >= want) {
      this.free -= want;
    } else {
      await new Promise<void>((go) => this.waiting.push({ n: want, go }));
    }
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.free += want;
      this.wake();
    };
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.free >= this.waiting[0]!.n) {
      const next = this.waiting.shift()!;
      this.free -= next.n;
      next.go();
    }
  }
}
