/**
 * A TCP proxy on 127.0.0.1 that injects network faults between an HTTP/1.1 client and a server
 * (here: between `mpu` and RGW for part PUTs, or between the handlers and RGW). It reads just
 * enough HTTP to see where each request starts (its request line), and asks a policy what to do
 * with it:
 * - `pass`: forward both ways untouched;
 * - `reset`: forward `afterBytes` of the request, then reset both connections (RST): the server
 *   sees a truncated body, the client a connection reset mid-upload;
 * - `stall`: forward `afterBytes`, then forward nothing more and read nothing more, holding the
 *   connection open for `holdMs` (the client's stall detection must notice) before closing it;
 * - `drop-response`: forward the whole request, let the server act on it, and reset the client's
 *   connection as soon as the response starts: the server did the work, the client never hears.
 *
 * Request boundaries are found by a heuristic that is exact for clients that do not pipeline
 * (undici with `pipelining: 1`, the AWS SDK): a new request starts with a request line, at the
 * start of the connection or after the server has started answering the previous one.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type FaultAction =
  | { kind: 'pass' }
  | { kind: 'reset'; afterBytes: number }
  | { kind: 'stall'; afterBytes: number; holdMs: number }
  | { kind: 'drop-response' };

export interface RequestInfo {
  /** Connection number (1-based) and request number on that connection. */
  connection: number;
  /** Request number over the proxy's whole life (1-based). */
  seq: number;
  method: string;
  /** The request target, e.g. `/bucket/key?partNumber=3&uploadId=...`. */
  target: string;
}

export type FaultPolicy = (req: RequestInfo) => FaultAction;

export interface FaultRecord {
  seq: number;
  kind: FaultAction['kind'];
  method: string;
  target: string;
  at: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** Replaces the policy (e.g. between test phases). */
  setPolicy(policy: FaultPolicy): void;
  readonly stats: { connections: number; requests: number; bytesUp: number; bytesDown: number; faults: FaultRecord[] };
  close(): Promise<void>;
}

const REQUEST_LINE = /^(GET|PUT|POST|DELETE|HEAD|OPTIONS|PATCH) (\S+) HTTP\/1\.[01]\r\n/;

export const PASS: FaultPolicy = () => ({ kind: 'pass' });

/** Starts a proxy to `target` (`http://host:port`). */
export async function startFaultProxy(target: string, policy: FaultPolicy = PASS): Promise<FaultProxy> {
  const upstreamUrl = new URL(target);
  const upstreamPort = Number(upstreamUrl.port || 80);
  const upstreamHost = upstreamUrl.hostname;
  if (upstreamHost !== '127.0.0.1' && upstreamHost !== 'localhost') throw new Error(`fault proxy: loopback targets only, not ${upstreamHost}`);
  let current = policy;
  const stats: FaultProxy['stats'] = { connections: 0, requests: 0, bytesUp: 0, bytesDown: 0, faults: [] };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((client) => {
    const connection = ++stats.connections;
    const upstream = connect({ host: upstreamHost, port: upstreamPort });
    sockets.add(client);
    sockets.add(upstream);
    /** The action of the request being sent, and its bytes so far. */
    let action: FaultAction = { kind: 'pass' };
    let sent = 0;
    /** True once the server answered since the last request started (a new request may follow). */
    let answered = true;
    let stalled = false;
    let resetting = false;
    let closed = false;

    const closeBoth = (reset: boolean) => {
      if (closed) return;
      closed = true;
      if (reset) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      } else {
        client.destroy();
        upstream.destroy();
      }
    };
    const record = (req: RequestInfo, kind: FaultAction['kind']) =>
      stats.faults.push({ seq: req.seq, kind, method: req.method, target: req.target, at: Date.now() });
    let currentReq: RequestInfo | undefined;

    client.on('data', (chunk: Buffer) => {
      if (closed || stalled || resetting) return;
      if (answered) {
        const m = REQUEST_LINE.exec(chunk.subarray(0, 8192).toString('latin1'));
        if (m) {
          answered = false;
          currentReq = { connection, seq: ++stats.requests, method: m[1]!, target: m[2]! };
          action = current(currentReq);
          sent = 0;
        }
      }
      let forward = chunk;
      if ((action.kind === 'reset' || action.kind === 'stall') && sent + chunk.length > action.afterBytes) {
        forward = chunk.subarray(0, Math.max(0, action.afterBytes - sent));
      }
      sent += forward.length;
      stats.bytesUp += forward.length;
      if (forward.length > 0 && !upstream.write(forward)) {
        client.pause();
        upstream.once('drain', () => stalled || closed || client.resume());
      }
      if (forward.length === chunk.length) return;
      if (action.kind === 'reset') {
        record(currentReq!, 'reset');
        resetting = true;
        // Let what was forwarded reach the server first, so it sees a truncated body.
        setImmediate(() => closeBoth(true));
      } else if (action.kind === 'stall') {
        record(currentReq!, 'stall');
        stalled = true;
        client.pause();
        const timer = setTimeout(() => {
          timers.delete(timer);
          closeBoth(false);
        }, action.holdMs);
        timers.add(timer);
      }
    });

    upstream.on('data', (chunk: Buffer) => {
      if (closed) return;
      answered = true;
      if (action.kind === 'drop-response') {
        record(currentReq!, 'drop-response');
        closeBoth(true);
        return;
      }
      if (stalled) return;
      stats.bytesDown += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => closed || upstream.resume());
      }
    });

    const end = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      closeBoth(false);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('end', () => (stalled ? undefined : upstream.end()));
    upstream.on('end', () => client.end());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    setPolicy(p) {
      current = p;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A policy from a script: the n-th request that `matches` (1-based) gets `script[n - 1]`;
 * everything after the script, and everything that does not match, passes.
 */
export function scripted(script: readonly FaultAction[], matches: (req: RequestInfo) => boolean = () => true): FaultPolicy {
  let n = 0;
  return (req) => {
    if (!matches(req)) return { kind: 'pass' };
    n++;
    return script[n - 1] ?? { kind: 'pass' };
  };
}
