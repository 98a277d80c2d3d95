/**
 * Reads byte ranges of the file with positional reads into caller-owned, reused buffers: no
 * streams, no per-part allocation, no copies beyond the kernel's. Memory is whatever buffers the
 * caller passes in (one per uploader, plus the hasher's small scratch buffer).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FileMismatchError } from './errors.js';
import { partOffset, partSize, type PartPlan } from '../contract/parts.js';

export class PartReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<PartReader> {
    return new PartReader(await open(path, 'r'), path);
  }

  async stat(): Promise<{ size: number; mtimeMs: number }> {
    const s = await this.fh.stat();
    return { size: s.size, mtimeMs: s.mtimeMs };
  }

  /**
   * Fills `buf[0, length)` from file offset `position` and returns that view. A short file (it
   * shrank since we planned the parts) is a FileMismatchError, never a short part.
   */
  async readRange(position: number, length: number, buf: Buffer): Promise<Buffer> {
    if (length > buf.length) throw new RangeError(`buffer of ${buf.length} bytes cannot hold ${length}`);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, position + done);
      if (bytesRead === 0) {
        throw new FileMismatchError('file_changed', `${this.path} shrank while uploading (expected ${length} bytes at offset ${position})`);
      }
      done += bytesRead;
    }
    return buf.subarray(0, length);
  }

  /** The bytes of part `n` (1-based) of `plan`, in `buf`. */
  readPart(plan: PartPlan, n: number, buf: Buffer): Promise<Buffer> {
    return this.readRange(partOffset(plan, n), partSize(plan, n), buf);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
