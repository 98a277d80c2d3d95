/**
 * What the upload engine needs from the outside world, as two small interfaces: where the bytes
 * come from and how one part is sent. The engine imports neither Node's fs nor node:http; the Node
 * adapters (client/file-source.ts, client/http-transport.ts) implement these, and a browser
 * can plug in `Blob.slice()` and `fetch` without touching the engine.
 */

/** The bytes to upload: random access by offset. */
export interface PartSource {
  /** For messages (a path, a file name). */
  readonly name: string;
  readonly size: number;
  /**
   * `length` bytes from `offset`, in `into[0, length)` when given (reused buffers: no per-part
   * allocation), else in a new array. A source shorter than asked is a FileMismatchError, never
   * a short part.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * A lazy view of `length` bytes from `offset` that the transport sends as is (a browser Blob
   * slice: the browser streams it from disk, so no part bytes enter the page's memory). A source
   * with it is never `read` for sending; one without it is read into the engine's buffers.
   */
  slice?(offset: number, length: number): Blob;
  /**
   * A token that changes whenever the content may have changed (a file: size and mtime). The
   * engine compares it before completing; a source that cannot change (a Blob) omits it.
   */
  version?(): Promise<string>;
}

/** A part as sent: bytes in memory, or a source's lazy slice (PartSource.slice). */
export type PartBody = Uint8Array | Blob;

export function bodyLength(body: PartBody): number {
  return body instanceof Uint8Array ? body.length : body.size;
}

export interface PutRequest {
  url: string;
  /** Exactly these headers (the transport adds Content-Length for `body`). */
  headers: Record<string, string>;
  body: PartBody;
  signal: AbortSignal;
  /**
   * Bytes of the body the connection accepted so far in this attempt; the engine's stall timer
   * and progress run on it. A transport that cannot tell calls it once with the whole length.
   */
  onProgress: (bytes: number) => void;
  /** Resolves when `bytes` more may be written (the rate limit). A transport that cannot pace ignores it. */
  pace?: (bytes: number) => Promise<void>;
}

/** Storage's answer, whatever the status: the engine decides what it means. */
export interface PutResponse {
  status: number;
  etag: string | undefined;
  /** The `Retry-After` header, if any. */
  retryAfter: string | undefined;
  /** The body of an error answer (S3's XML), '' for a success. */
  body: string;
}

/** One HTTP PUT of a part to a presigned URL. Network failures reject; HTTP errors resolve. */
export interface PartTransport {
  put(req: PutRequest): Promise<PutResponse>;
}

/**
 * MD5, wherever it is computed: Node's crypto (client/node-md5.ts), or hash-wasm in a Web Worker
 * (client/browser/worker-md5.ts), which reads the Blob itself so the page's thread never hashes.
 */
export interface Md5Port {
  /** MD5 of the source's bytes [offset, offset + length), read in small blocks. */
  ofRange(source: PartSource, offset: number, length: number): Promise<Uint8Array>;
  /** MD5 of bytes in memory (a part storage disputed; the part digests for the object's ETag). */
  ofBytes(data: Uint8Array): Promise<Uint8Array>;
}
