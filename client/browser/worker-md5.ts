/**
 * The engine's Md5Port in a browser: MD5s computed by hash-wasm in a Web Worker (hash-worker.ts),
 * so hashing a multi-GiB file never blocks the page. One worker serves every upload of a page.
 */
import { MpuError } from '../errors.js';
import type { Md5Port, PartSource } from '../engine/ports.js';
import { BlobSource } from './blob-source.js';
import type { HashRequest, HashResponse } from './hash-protocol.js';

/** Where the worker script is: beside the browser bundle (dist/hash-worker.js), unless told otherwise. */
export function defaultWorkerUrl(): URL {
  return new URL('./hash-worker.js', import.meta.url);
}

export class WorkerMd5 implements Md5Port {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (d: Uint8Array) => void; reject: (e: unknown) => void }>();

  constructor(workerUrl: string | URL = defaultWorkerUrl()) {
    this.worker = new Worker(workerUrl, { type: 'module', name: 'mpu-md5' });
    this.worker.onmessage = (e: MessageEvent<HashResponse>) => {
      const w = this.waiting.get(e.data.id);
      if (!w) return;
      this.waiting.delete(e.data.id);
      if ('digest' in e.data) w.resolve(e.data.digest);
      else w.reject(new MpuError('hash_failed', `MD5 worker: ${e.data.error}`));
    };
    this.worker.onerror = (e) => this.failAll(new MpuError('hash_failed', `MD5 worker failed to run (${e.message || 'could not load the script'}); is hash-worker.js served beside the bundle?`));
  }

  ofRange(source: PartSource, offset: number, length: number): Promise<Uint8Array> {
    if (!(source instanceof BlobSource)) return Promise.reject(new MpuError('hash_failed', 'the MD5 worker reads Blob sources only'));
    return this.call({ id: this.nextId++, blob: source.blob, offset, length });
  }

  /** A hashed Blob range without a PartSource (the Uppy adapter's parts). */
  ofBlob(blob: Blob): Promise<Uint8Array> {
    return this.call({ id: this.nextId++, blob, offset: 0, length: blob.size });
  }

  ofBytes(data: Uint8Array): Promise<Uint8Array> {
    // A copy is transferred: the caller keeps its buffer (the engine reuses it).
    return this.call({ id: this.nextId++, bytes: data.slice() });
  }

  terminate(): void {
    this.worker.terminate();
    this.failAll(new MpuError('hash_failed', 'MD5 worker terminated'));
  }

  private call(req: HashRequest): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      this.worker.postMessage(req, 'bytes' in req ? [req.bytes.buffer] : []);
    });
  }

  private failAll(err: unknown): void {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
