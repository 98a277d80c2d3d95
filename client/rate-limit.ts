/** A shared byte-rate limit for all uploaders (`--limit-rate`): virtual-clock token bucket. */
import { sleep } from './retry.js';

export class RateLimiter {
  private nextFree = 0;

  /** `bytesPerSecond` sustained; bursts up to `burstMs` worth of bytes go through at once. */
  constructor(
    readonly bytesPerSecond: number,
    private readonly burstMs = 100,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('rate must be positive');
  }

  /** Waits until `bytes` more may be sent. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.nextFree = Math.max(this.nextFree, now - this.burstMs);
    const wait = this.nextFree - now;
    this.nextFree += (bytes / this.bytesPerSecond) * 1000;
    if (wait > 0) await sleep(wait, signal);
  }
}
