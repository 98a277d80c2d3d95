/** One keep-alive connection pool for the API and storage: connections are reused across parts. */
import { Agent, type Dispatcher } from 'undici';

export interface HttpOptions {
  /** Upper bound on sockets per origin; the uploaders use `concurrency` of them. */
  connections: number;
}

export function createDispatcher(opts: HttpOptions): Dispatcher {
  return new Agent({
    connections: opts.connections,
    pipelining: 1,
    // Keep sockets across the gap between parts and between /parts batches.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connectTimeout: 15_000,
    // Uploads are watched by our own stall detector (no progress for N s), which also sees the
    // time spent writing the body; undici's headers timer would count that time too.
    headersTimeout: 0,
    bodyTimeout: 0,
    // HTTP/1.1 per connection: h2 would multiplex all parts onto one TCP stream.
    allowH2: false,
  });
}

/** Lower-cased header lookup on undici's response headers. */
export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
