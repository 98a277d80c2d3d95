/**
 * The part MD5s of one plan: each computed once, on demand or ahead (while init is in flight),
 * one at a time through this instance's scratch buffer, and kept (16 bytes per part) for the
 * object's ETag.
 */
import type { PartPlan } from '../../contract/parts.js';
import { multipartEtag } from '../hashing.js';
import { HASH_BLOCK_SIZE, hashPart } from './part-hasher.js';
import type { PartSource } from './ports.js';

export class PartDigests {
  private readonly known: (Buffer | undefined)[];
  private readonly pending = new Map<number, Promise<Buffer>>();
  private readonly scratch: Uint8Array;
  /** Serialises the reads into `scratch`. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly source: PartSource,
    readonly plan: PartPlan,
  ) {
    this.known = new Array<Buffer | undefined>(plan.totalParts + 1);
    this.scratch = new Uint8Array(Math.min(HASH_BLOCK_SIZE, Math.max(1, plan.chunkSize)));
  }

  /** Starts hashing parts 1..count now, so their digests are ready when asked for. */
  prefetch(count: number): void {
    for (let n = 1; n <= Math.min(this.plan.totalParts, count); n++) this.of(n).catch(() => undefined);
  }

  /** The MD5 of part `n` (1-based). */
  of(n: number): Promise<Buffer> {
    const d = this.known[n];
    if (d) return Promise.resolve(d);
    const p = this.pending.get(n);
    if (p) return p;
    const next = this.queue.then(() => {
      if (this.closed) throw new Error('digests closed');
      return hashPart(this.source, this.plan, n, this.scratch);
    });
    this.queue = next.catch(() => undefined);
    this.pending.set(n, next);
    next.then(
      (digest) => {
        this.known[n] = digest;
        this.pending.delete(n);
      },
      () => this.pending.delete(n),
    );
    return next;
  }

  /** The object's ETag (unquoted), from every part's MD5 (hashing any not known yet). */
  async etag(): Promise<string> {
    const all: Buffer[] = [];
    for (let n = 1; n <= this.plan.totalParts; n++) all.push(await this.of(n));
    return multipartEtag(all);
  }

  /** Drops digests not started yet; resolves once no read is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }
}
