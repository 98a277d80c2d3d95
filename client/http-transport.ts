/**
 * The Node PartTransport: a part PUT with Node's http/https on a shared keep-alive pool. The body
 * is written as views of the caller's buffer (no copies), with exact Content-Length; progress
 * counts the bytes the connection accepted.
 */
import type { PartTransport, PutRequest, PutResponse } from './engine/ports.js';
import { MpuError } from './errors.js';
import { header, send, type HttpPool } from './http.js';

/** Write slice of a part PUT: fine enough for progress and stall detection, coarse enough to be free. */
export const PUT_SLICE = 1024 * 1024;

export class HttpTransport implements PartTransport {
  /**
   * `sliceSize`: bytes handed to the socket per write. Smaller slices give finer progress, rate
   * limiting and stall detection; a slice >= the body (and no pacing) writes it in one go.
   */
  constructor(
    private readonly pool: HttpPool,
    private readonly sliceSize = PUT_SLICE,
  ) {}

  async put(req: PutRequest): Promise<PutResponse> {
    // Node sources are read into buffers; only a browser source hands out lazy Blob slices.
    if (!(req.body instanceof Uint8Array)) throw new MpuError('unsupported_body', 'the Node transport sends bytes in memory only');
    const r = { ...req, body: req.body };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = v;
    headers['content-length'] = String(r.body.length);
    const direct = r.body.length <= this.sliceSize && !r.pace;
    const res = await send(this.pool, r.url, {
      method: 'PUT',
      headers,
      ...(direct ? { body: r.body } : { slices: bodySlices(r.body, { sliceSize: this.sliceSize, pace: r.pace, onProgress: r.onProgress }) }),
      signal: r.signal,
    });
    const ok = res.status >= 200 && res.status < 300;
    const body = ok ? (await res.dump(), '') : await res.text().catch(() => '');
    if (ok && direct) r.onProgress(r.body.length);
    return { status: res.status, etag: header(res.headers, 'etag'), retryAfter: header(res.headers, 'retry-after'), body };
  }
}

/**
 * The part as views of the buffer (no copies), paced by `pace`. The consumer pulls the next
 * slice only once the previous one was written to the socket, so progress counts bytes the
 * connection accepted, and a stalled socket stops the pulls (and the progress calls that reset
 * the stall timer).
 */
export async function* bodySlices(
  body: Uint8Array,
  o: { sliceSize: number; pace?: (bytes: number) => Promise<void>; onProgress?: (bytes: number) => void },
): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < body.length; ) {
    const end = Math.min(body.length, off + o.sliceSize);
    if (o.pace) await o.pace(end - off);
    yield body.subarray(off, end);
    off = end;
    o.onProgress?.(off);
  }
}
