/** Writes `size` random bytes to `path` without holding the file in memory; returns its SHA-256 (hex). */
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { MiB } from '../contract/limits.js';

export async function writeRandomFile(path: string, size: number): Promise<string> {
  const out = createWriteStream(path);
  const hash = createHash('sha256');
  const block = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= block.length) {
    const piece = left >= block.length ? block : block.subarray(0, left);
    randomFillSync(piece);
    hash.update(piece);
    // The stream keeps a reference to `piece` until written, so wait before refilling the block.
    if (!out.write(Buffer.from(piece))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}
