/**
 * Part MD5s computed on a worker thread, so hashing (~600 MiB/s per core) does not share the
 * event loop with the sockets. The worker opens the file itself and reads each part through a
 * 1 MiB scratch buffer: nothing but 16-byte digests crosses threads, memory stays constant.
 */
import { Worker } from 'node:worker_threads';
import { partOffset, partSize, type PartPlan } from '../contract/parts.js';
import { FileMismatchError, MpuError } from './errors.js';
import { HASH_BLOCK_SIZE } from './part-hasher.js';

// Plain CommonJS run with `eval: true`: needs no TypeScript loader in the worker (tsx, jest).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const fd = openSync(workerData.path, 'r');
const scratch = Buffer.allocUnsafeSlow(workerData.blockSize);
parentPort.on('message', (m) => {
  if (m.type === 'close') { closeSync(fd); parentPort.close(); return; }
  try {
    const h = createHash('md5');
    for (let done = 0; done < m.length; ) {
      const want = Math.min(scratch.length, m.length - done);
      const got = readSync(fd, scratch, 0, want, m.offset + done);
      if (got === 0) { parentPort.postMessage({ id: m.id, error: 'short', offset: m.offset + done }); return; }
      h.update(got === scratch.length ? scratch : scratch.subarray(0, got));
      done += got;
    }
    parentPort.postMessage({ id: m.id, md5: h.digest() });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: 'io', message: String(e && e.message || e) });
  }
});
`;

interface Reply {
  id: number;
  md5?: Uint8Array;
  error?: 'short' | 'io';
  offset?: number;
  message?: string;
}

export class HashWorker {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (d: Buffer) => void; reject: (e: unknown) => void }>();
  private failure: unknown;

  /** Started before the part plan is known, so the thread boots while init is in flight. */
  constructor(private readonly path: string) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, blockSize: HASH_BLOCK_SIZE } });
    this.worker.on('message', (m: Reply) => this.onReply(m));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => {
      if (this.waiting.size > 0) this.failAll(new MpuError('hash_worker', `hash worker exited with code ${code}`));
    });
  }

  /** MD5 of part `n` of `plan`; requests queue in the worker and are answered in order. */
  digest(plan: PartPlan, n: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'hash', id, offset: partOffset(plan, n), length: partSize(plan, n) });
    });
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void this.worker.terminate().then(() => resolve()), 1000);
      this.worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private onReply(m: Reply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if (m.md5) w.resolve(Buffer.from(m.md5.buffer, m.md5.byteOffset, m.md5.byteLength));
    else if (m.error === 'short') w.reject(new FileMismatchError('file_changed', `${this.path} shrank while uploading (no data at offset ${m.offset})`));
    else w.reject(new MpuError('read_error', `cannot read ${this.path}: ${m.message}`));
  }

  private failAll(e: unknown): void {
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
