/**
 * The Node PartSource: positional reads of a file into caller-owned, reused buffers: no streams,
 * no per-part allocation, no copies beyond the kernel's.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { PartSource } from './engine/ports.js';
import { FileMismatchError, UsageError } from './errors.js';

export class FileSource implements PartSource {
  private constructor(
    private readonly fh: FileHandle,
    readonly name: string,
    readonly size: number,
  ) {}

  /** Opens `path`; a file that cannot be read is a usage error. */
  static async open(path: string): Promise<FileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new UsageError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
    }
    try {
      return new FileSource(fh, path, (await fh.stat()).size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Fills `into[0, length)` from file offset `offset` and returns that view. A short file (it
   * shrank since we planned the parts) is a FileMismatchError, never a short part.
   */
  async read(offset: number, length: number, into: Uint8Array = new Uint8Array(length)): Promise<Uint8Array> {
    if (length > into.length) throw new RangeError(`buffer of ${into.length} bytes cannot hold ${length}`);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.fh.read(into, done, length - done, offset + done);
      if (bytesRead === 0) {
        throw new FileMismatchError('file_changed', `${this.name} shrank while uploading (expected ${length} bytes at offset ${offset})`);
      }
      done += bytesRead;
    }
    return into.subarray(0, length);
  }

  /** Size and mtime: a write to the file changes them. */
  async version(): Promise<string> {
    const s = await this.fh.stat();
    return `${s.size}:${s.mtimeMs}`;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
