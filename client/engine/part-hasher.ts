/**
 * MD5 of one part, read sequentially through a small scratch buffer: the hashing pass runs ahead
 * of the uploaders with constant memory, so the MD5-bound URLs can be asked for before a part is
 * sent.
 */
import { createHash } from 'node:crypto';
import { partOffset, partSize, type PartPlan } from '../../contract/parts.js';
import type { PartSource } from './ports.js';

export const HASH_BLOCK_SIZE = 1024 * 1024;

/** Not reentrant per scratch buffer: one digest at a time per buffer. */
export async function hashPart(source: PartSource, plan: PartPlan, n: number, scratch: Uint8Array): Promise<Buffer> {
  const h = createHash('md5');
  const start = partOffset(plan, n);
  const size = partSize(plan, n);
  for (let done = 0; done < size; ) {
    const len = Math.min(scratch.length, size - done);
    // Blocks of ~1 MiB keep each synchronous update short, so sockets keep being fed meanwhile.
    h.update(await source.read(start + done, len, scratch));
    done += len;
  }
  return h.digest();
}
