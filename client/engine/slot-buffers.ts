/**
 * The part buffers of the uploaders: one per slot, allocated on the slot's first part, reused
 * for every part after, and dropped by `release` once the slot is no longer used (the pool
 * shrank, or the run ended), so memory follows the number of uploaders at work.
 */
export class SlotBuffers {
  private readonly buffers = new Map<number, Uint8Array>();

  /** `size`: bytes of one buffer (a part at most). */
  constructor(private readonly size: number) {}

  /** The buffer of `slot`. */
  get(slot: number): Uint8Array {
    let b = this.buffers.get(slot);
    if (!b) this.buffers.set(slot, (b = new Uint8Array(this.size)));
    return b;
  }

  release(slot: number): void {
    this.buffers.delete(slot);
  }

  releaseAll(): void {
    this.buffers.clear();
  }

  /** Buffers held now. */
  get count(): number {
    return this.buffers.size;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.buffers.size * this.size;
  }
}
