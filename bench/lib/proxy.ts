/**
 * A shaping TCP proxy on 127.0.0.1 that makes loopback look like a WAN link: every chunk is
 * delayed by RTT/2 in each direction, each connection is capped by a token bucket (per
 * direction), and an optional global cap is shared by all connections' uploads.
 *
 * Flow control: a direction stops reading from its source once `maxQueued` bytes wait to be
 * written, so a fast sender is held back the way a TCP window would hold it back (and memory
 * stays bounded). Not modelled: slow start, loss, window scaling limits.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ShapingOptions {
  target: { host: string; port: number };
  /** Round-trip delay added, ms (RTT/2 each way). */
  rttMs: number;
  /** Per-connection cap in bytes/s, each direction; 0 = none. */
  connBytesPerSec: number;
  /** Cap on all connections' client-to-server bytes together, bytes/s; 0 = none. */
  linkBytesPerSec?: number;
  maxQueued?: number;
}

export interface ShapingProxy {
  readonly url: string;
  readonly port: number;
  readonly connections: number;
  /**
   * Changes RTT and caps for every byte read from now on, on open connections too (each chunk
   * reads the options when it arrives). One proxy, so one URL, serves every WAN profile: the
   * handlers presign for that URL once, at the local cloud's start.
   */
  reshape(s: Shaping): void;
  close(): Promise<void>;
}

export type Shaping = Pick<ShapingOptions, 'rttMs' | 'connBytesPerSec' | 'linkBytesPerSec'>;

interface Bucket {
  next: number;
}

function pipeShaped(src: Socket, dst: Socket, o: ShapingOptions, shared: Bucket | undefined): void {
  const own: Bucket = { next: 0 };
  const maxQueued = o.maxQueued ?? 1024 * 1024;
  // One FIFO and one timer per direction: separate timers per chunk can fire out of order
  // (libuv's cached loop time), which reorders bytes.
  const fifo: { chunk: Buffer | null; at: number }[] = [];
  let head = 0;
  let queued = 0;
  let lastAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    while (head < fifo.length && fifo[head]!.at <= now + 0.5) {
      const { chunk } = fifo[head++]!;
      if (chunk === null) {
        if (!dst.writableEnded) dst.end();
      } else {
        queued -= chunk.length;
        if (!dst.destroyed && !dst.writableEnded) dst.write(chunk);
      }
    }
    if (head > 1024) {
      fifo.splice(0, head);
      head = 0;
    }
    if (queued <= maxQueued && src.isPaused()) src.resume();
    if (head < fifo.length) timer = setTimeout(pump, Math.max(0, fifo[head]!.at - now));
  };
  const push = (chunk: Buffer | null, at: number) => {
    fifo.push({ chunk, at });
    if (!timer) timer = setTimeout(pump, Math.max(0, at - performance.now()));
  };
  src.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const half = o.rttMs / 2;
    let at = Math.max(now + half, lastAt);
    if (o.connBytesPerSec > 0) {
      own.next = Math.max(own.next, now) + (chunk.length / o.connBytesPerSec) * 1000;
      at = Math.max(at, own.next + half);
    }
    if (shared && o.linkBytesPerSec) {
      shared.next = Math.max(shared.next, now) + (chunk.length / o.linkBytesPerSec) * 1000;
      at = Math.max(at, shared.next + half);
    }
    lastAt = at;
    queued += chunk.length;
    if (queued > maxQueued) src.pause();
    push(chunk, at);
  });
  // The end (FIN) travels behind the data.
  src.on('end', () => push(null, Math.max(lastAt, performance.now())));
}

export async function startShapingProxy(options: ShapingOptions): Promise<ShapingProxy> {
  // A copy that reshape() changes in place; the pipes hold this object.
  const o: ShapingOptions = { ...options };
  const sockets = new Set<Socket>();
  const linkUp: Bucket = { next: 0 };
  let count = 0;
  const server: Server = createServer((client) => {
    count++;
    const upstream = connect(o.target.port, o.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    // A side that closes after its FIN does not cut the other short: its last bytes (RGW's
    // response, then its FIN, e.g. when it closes after an Expect: 100-continue request) are
    // still delayed in the FIFO and must reach the peer, which the queued FIN then ends.
    // Errors (resets) still tear both down at once.
    pipeShaped(client, upstream, o, linkUp);
    pipeShaped(upstream, client, o, undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('proxy: no port');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    get connections() {
      return count;
    },
    reshape(s: Shaping) {
      o.rttMs = s.rttMs;
      o.connBytesPerSec = s.connBytesPerSec;
      o.linkBytesPerSec = s.linkBytesPerSec ?? 0;
      // A bucket's debt from the previous profile must not delay the next one.
      linkUp.next = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
