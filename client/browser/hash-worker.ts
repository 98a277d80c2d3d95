/**
 * The Web Worker that computes MD5s with hash-wasm, off the page's thread. It reads a Blob range
 * itself in 1 MiB blocks (the page posts the Blob, which is a handle, not its bytes), or hashes
 * bytes it is given. One request at a time: the WASM hasher is reused.
 */
import { createMD5, type IHasher } from 'hash-wasm';
import type { HashRequest, HashResponse } from './hash-protocol.js';

const BLOCK = 1024 * 1024;
let hasher: Promise<IHasher> | undefined;
let queue: Promise<unknown> = Promise.resolve();

async function digest(req: HashRequest): Promise<Uint8Array> {
  const h = await (hasher ??= createMD5());
  h.init();
  if ('bytes' in req) {
    h.update(req.bytes);
  } else {
    for (let done = 0; done < req.length; ) {
      const len = Math.min(BLOCK, req.length - done);
      const block = new Uint8Array(await req.blob.slice(req.offset + done, req.offset + done + len).arrayBuffer());
      if (block.length !== len) throw new Error(`file shorter than expected at ${req.offset + done}`);
      h.update(block);
      done += len;
    }
  }
  return h.digest('binary');
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<HashRequest>) => void) | null; postMessage(m: HashResponse, transfer?: Transferable[]): void };
scope.onmessage = (e) => {
  const req = e.data;
  const next = queue.then(() => digest(req));
  queue = next.catch(() => undefined);
  next.then(
    (d) => scope.postMessage({ id: req.id, digest: d }, [d.buffer]),
    (err: unknown) => scope.postMessage({ id: req.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
