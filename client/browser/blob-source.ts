/**
 * The browser's PartSource: a File (or any Blob) read by `Blob.slice()`, one part at a time, so
 * only the parts being sent are ever in memory. A Blob cannot change under us (a File whose disk
 * copy changed fails to read instead), so there is no `version()`.
 */
import { FileMismatchError } from '../errors.js';
import type { PartSource } from '../engine/ports.js';

export class BlobSource implements PartSource {
  constructor(
    readonly blob: Blob,
    readonly name: string,
  ) {}

  get size(): number {
    return this.blob.size;
  }

  /** The engine sends this slice itself (fetch streams a Blob from disk): no part bytes in the page. */
  slice(offset: number, length: number): Blob {
    return this.blob.slice(offset, offset + length);
  }

  async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    } catch (err) {
      // Chromium refuses to read a picked file that was modified or deleted since (NotReadableError).
      throw Object.assign(new FileMismatchError('file_changed', `${this.name} cannot be read any more (changed or removed since it was picked)`), { cause: err });
    }
    if (bytes.length !== length) throw new FileMismatchError('file_changed', `${this.name} is shorter than expected (${offset + bytes.length} < ${offset + length} bytes)`);
    if (!into) return bytes;
    // The engine's per-uploader buffer: the fresh array is garbage at once, so live memory stays
    // one part per uploader.
    into.set(bytes);
    return into.subarray(0, length);
  }
}
