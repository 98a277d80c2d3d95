/**
 * The browser's PartTransport and API transport on `fetch`. Requests carry no cookies
 * (`credentials: 'omit'`): the API takes a bearer token and a part URL is its own credential.
 * fetch reports no upload progress, so a part counts once storage answered (progress stays
 * monotonic, in whole parts); the rate limit paces whole parts.
 */
import type { ApiSend } from '../api-core.js';
import { NetworkError } from '../errors.js';
import { bodyLength, type PartTransport, type PutRequest, type PutResponse } from '../engine/ports.js';

export class FetchTransport implements PartTransport {
  async put(req: PutRequest): Promise<PutResponse> {
    const length = bodyLength(req.body);
    await req.pace?.(length);
    const res = await request(`PUT part`, req.url, {
      method: 'PUT',
      headers: req.headers,
      // A Blob slice streams from disk inside the browser; bytes are sent as they are.
      body: req.body as Blob | Uint8Array<ArrayBuffer>,
      signal: req.signal,
    });
    const ok = res.status >= 200 && res.status < 300;
    const body = ok ? '' : await res.text().catch(() => '');
    if (ok) {
      await res.arrayBuffer().catch(() => undefined);
      req.onProgress(length);
    }
    // The ETag is readable only if the bucket's CORS rule exposes it (docs/security.md).
    return { status: res.status, etag: res.headers.get('etag') ?? undefined, retryAfter: res.headers.get('retry-after') ?? undefined, body };
  }
}

/** ApiCore's transport. */
export const fetchSend: ApiSend = async (url, r) => {
  const res = await request(`${r.method} ${new URL(url).pathname}`, url, { method: r.method, headers: r.headers, body: r.body ?? null, signal: r.signal });
  return { status: res.status, header: (name) => res.headers.get(name) ?? undefined, text: () => res.text() };
};

async function request(what: string, url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  try {
    return await fetch(url, { ...init, credentials: 'omit', cache: 'no-store', mode: 'cors' });
  } catch (err) {
    // Our own abort (pause, stall timer) keeps its reason; anything else is the network.
    if (init.signal.aborted) throw init.signal.reason ?? err;
    throw new NetworkError(what, { cause: err });
  }
}
