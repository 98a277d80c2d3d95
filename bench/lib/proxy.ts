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
  close(): Promise<void>;
}

interface Bucket {
  next: number;
}

function pipeShaped(src: Socket, dst: Socket, o: ShapingOptions, shared: Bucket | undefined): void {
  const half = o.rttMs / 2;
  const own: Bucket = { next: 0 };
  // 1 MiB: above the bandwidth-delay product at 16 MiB/s and 25 ms (400 KiB), so the rate cap binds;
  // a much larger queue (4 MiB) made RGW's throughput through the proxy drop by half (bursts).
  const maxQueued = o.maxQueued ?? 1024 * 1024;
  let queued = 0;
  let lastAt = 0;
  src.on('data', (chunk: Buffer) => {
    const now = performance.now();
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
    setTimeout(() => {
      queued -= chunk.length;
      if (!dst.destroyed) dst.write(chunk);
      if (queued <= maxQueued && src.isPaused()) src.resume();
    }, Math.max(0, at - now));
  });
  // The end (FIN) travels behind the data.
  src.on('end', () => setTimeout(() => dst.end(), Math.max(0, lastAt - performance.now())));
}

export async function startShapingProxy(o: ShapingOptions): Promise<ShapingProxy> {
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
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
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
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
