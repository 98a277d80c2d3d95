/**
 * HTTP for the client on Node's own http/https modules (no undici package: importing it cost the
 * upload ~12 MiB of RSS, see docs/benchmarks.md): one keep-alive connection pool for the API and
 * storage, and one request on it.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpOptions {
  /** Upper bound on sockets per origin; the uploaders use `concurrency` of them. */
  connections: number;
  /** Told of every exchange once its response was read or it failed (load tests, tracing). */
  onExchange?: (e: HttpExchange) => void;
}

export interface HttpExchange {
  method: string;
  url: string;
  /** The response's status, or 'error' when none came. */
  status: number | 'error';
  /** From the request's start to the end of the response (or the failure). */
  ms: number;
}

/** Keep-alive sockets reused across parts and between /parts batches; `close()` when done. */
export class HttpPool {
  readonly http: http.Agent;
  readonly https: https.Agent;
  readonly onExchange: HttpOptions['onExchange'];

  constructor(opts: HttpOptions) {
    this.onExchange = opts.onExchange;
    const o = {
      keepAlive: true,
      maxSockets: opts.connections,
      maxFreeSockets: opts.connections,
      // Idle sockets are closed after this; requests are watched by our own stall detector and
      // API timeout instead (a socket timer would also count the time spent writing a body).
      timeout: 30_000,
      scheduling: 'lifo' as const,
    };
    this.http = new http.Agent(o);
    this.https = new https.Agent(o);
  }

  /** Closes every socket, idle or in use: call it once no upload uses the pool any more. */
  close(): Promise<void> {
    this.http.destroy();
    this.https.destroy();
    return Promise.resolve();
  }
}

/** One keep-alive connection pool to share between uploads (UploadOptions.pool). */
export function createPool(opts: HttpOptions): HttpPool {
  return new HttpPool(opts);
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  /** Written whole; or `slices`, written one after the other with backpressure. */
  body?: string | Uint8Array;
  slices?: AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /**
   * From the request's last byte handed to the connection to the response's headers: the
   * round trip and the server's time, without connecting (a new socket) or queueing for one.
   */
  waitMs: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body as text (rejects if the connection fails meanwhile). */
  text(): Promise<string>;
  /** Reads and drops the body, so the socket goes back to the pool. */
  dump(): Promise<void>;
}

/**
 * Sends one request; resolves with the response once its headers arrived (the request body may
 * still be being written: storage can refuse a part early). Network failures reject; an aborted
 * `signal` rejects with its reason.
 */
export function send(pool: HttpPool, url: string, r: HttpRequest): Promise<HttpResponse> {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  if (!secure && u.protocol !== 'http:') return Promise.reject(new TypeError(`not an http(s) URL: ${url}`));
  const started = performance.now();
  let status: number | 'error' = 'error';
  const done = () => pool.onExchange?.({ method: r.method, url, status, ms: performance.now() - started });
  let sentAt: number | undefined;
  return new Promise<HttpResponse>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (status === 'error') done();
      reject(r.signal?.aborted ? r.signal.reason : err);
    };
    const req = (secure ? https : http).request(u, { method: r.method, headers: r.headers, agent: secure ? pool.https : pool.http, signal: r.signal }, (res) => {
      status = res.statusCode ?? 0;
      resolve(wrap(res, r.signal, done, performance.now() - (sentAt ?? started)));
    });
    req.on('finish', () => (sentAt = performance.now()));
    req.on('error', fail);
    if (r.slices) void writeSlices(req, r.slices).catch((err: unknown) => req.destroy(err as Error));
    else req.end(r.body);
  });
}

/** Each slice is pulled once the previous one was accepted by the socket (not just buffered). */
async function writeSlices(req: http.ClientRequest, slices: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const s of slices) {
    if (req.destroyed) return;
    if (!req.write(s)) {
      await new Promise<void>((done) => {
        const go = () => {
          req.off('drain', go);
          req.off('close', go);
          done();
        };
        req.on('drain', go);
        req.on('close', go);
      });
    }
  }
  if (!req.destroyed) req.end();
}

function wrap(res: http.IncomingMessage, signal: AbortSignal | undefined, done: () => void, waitMs: number): HttpResponse {
  const read = async (keep: boolean) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) if (keep) chunks.push(c as Buffer);
    } catch (err) {
      throw signal?.aborted ? signal.reason : err;
    } finally {
      done();
    }
    return keep ? Buffer.concat(chunks).toString('utf8') : '';
  };
  return {
    status: res.statusCode ?? 0,
    waitMs,
    headers: res.headers,
    text: () => read(true),
    dump: async () => void (await read(false)),
  };
}

/** Lower-cased header lookup on a response's headers. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
