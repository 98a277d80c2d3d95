/**
 * The part buffers of one run: a buffer is taken when a part is read and given back once storage
 * holds the part, so the parts in flight and the parts read ahead each hold one. Given-back
 * buffers are reused up to `keep()` (what the current count and read-ahead may use at once); more
 * are dropped, so memory follows the count when it shrinks.
 */
export class PartBuffers {
  private readonly free: Uint8Array[] = [];
  private used = 0;

  /** `size`: bytes of one buffer (a part at most). */
  constructor(
    private readonly size: number,
    private readonly keep: () => number,
  ) {}

  take(): Uint8Array {
    this.used++;
    return this.free.pop() ?? new Uint8Array(this.size);
  }

  give(b: Uint8Array): void {
    this.used--;
    if (this.used + this.free.length < this.keep()) this.free.push(b);
  }

  /** Drops every buffer (the run ended); buffers still out are not reused. */
  clear(): void {
    this.free.length = 0;
  }

  /** Buffers held now, out and free. */
  get count(): number {
    return this.used + this.free.length;
  }

  get bytes(): number {
    return this.count * this.size;
  }
}
