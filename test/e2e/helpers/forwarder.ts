/**
 * A plain TCP forwarder on 127.0.0.1 that counts what passes: the stand-in for a proxy or CDN in
 * front of storage. It listens before it knows where to forward (a local cloud that is told this
 * forwarder's URL at start only then has an RGW address); connections before `setTarget` are
 * refused by closing them.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Forwarder {
  readonly url: string;
  setTarget(url: string): void;
  /** Bytes from clients to the target, and the request lines seen (`PUT /bucket/key?...`). */
  readonly stats: { connections: number; bytesUp: number; bytesDown: number; requestLines: string[] };
  close(): Promise<void>;
}

const REQUEST_LINE = /(?:^|\r\n)((?:GET|PUT|POST|DELETE|HEAD|OPTIONS) \S+) HTTP\/1\.[01]\r\n/g;

export async function startForwarder(): Promise<Forwarder> {
  let target: { host: string; port: number } | undefined;
  const stats = { connections: 0, bytesUp: 0, bytesDown: 0, requestLines: [] as string[] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    if (!target) {
      client.destroy();
      return;
    }
    stats.connections++;
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    client.on('data', (chunk: Buffer) => {
      stats.bytesUp += chunk.length;
      // Request lines start a chunk on a fresh request; bodies are binary and rarely match.
      for (const m of chunk.subarray(0, 4096).toString('latin1').matchAll(REQUEST_LINE)) stats.requestLines.push(m[1]!);
    });
    upstream.on('data', (chunk: Buffer) => {
      stats.bytesDown += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setTarget(url: string) {
      const u = new URL(url);
      target = { host: u.hostname, port: Number(u.port || 80) };
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
