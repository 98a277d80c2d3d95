/**
 * The part MD5s of one plan, kept (16 bytes per part) for the object's ETag: recorded by the
 * uploaders from the bytes they send (read once, hashed once), or computed here from the source
 * for parts this run does not send (those storage already holds, on resume), one at a time (the
 * Md5Port reads the source sequentially).
 */
import type { PartPlan } from '../../contract/parts.js';
import { partOffset, partSize } from '../../contract/parts.js';
import { concatDigests, multipartEtagOf } from '../etag.js';
import type { Md5Port, PartSource } from './ports.js';

export class PartDigests {
  private readonly known: (Uint8Array | undefined)[];
  private readonly pending = new Map<number, Promise<Uint8Array>>();
  /** One digest at a time: the source is read sequentially. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly source: PartSource,
    readonly plan: PartPlan,
    private readonly md5: Md5Port,
  ) {
    this.known = new Array<Uint8Array | undefined>(plan.totalParts + 1);
  }

  /** The MD5 of part `n` as an uploader computed it from the bytes it sent. */
  record(n: number, digest: Uint8Array): void {
    this.known[n] = digest;
  }

  /** The MD5 of part `n` (1-based): recorded, or read from the source now. */
  of(n: number): Promise<Uint8Array> {
    const d = this.known[n];
    if (d) return Promise.resolve(d);
    const p = this.pending.get(n);
    if (p) return p;
    const next = this.queue.then(() => {
      if (this.closed) throw new Error('digests closed');
      return this.md5.ofRange(this.source, partOffset(this.plan, n), partSize(this.plan, n));
    });
    this.queue = next.catch(() => undefined);
    this.pending.set(n, next);
    next.then(
      (digest) => {
        this.known[n] ??= digest;
        this.pending.delete(n);
      },
      () => this.pending.delete(n),
    );
    return next;
  }

  /** The object's ETag (unquoted), from every part's MD5 (hashing any not known yet). */
  async etag(): Promise<string> {
    const all: Uint8Array[] = [];
    for (let n = 1; n <= this.plan.totalParts; n++) all.push(await this.of(n));
    return multipartEtagOf(await this.md5.ofBytes(concatDigests(all)), all.length);
  }

  /** Drops digests not started yet; resolves once no read is in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
  }
}
