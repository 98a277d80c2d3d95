/**
 * The upload API's typed client on Node's http/https (one keep-alive pool): api-core.ts with
 * http.ts's `send` plugged in.
 */
import { ApiCore, type ApiCoreOptions } from './api-core.js';
import { header, send, type HttpPool } from './http.js';

export interface ApiClientOptions extends Omit<ApiCoreOptions, 'send' | 'token'> {
  /** Keep-alive connections (createPool). */
  pool: HttpPool;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

export class ApiClient extends ApiCore {
  constructor(opts: ApiClientOptions) {
    super({
      ...opts,
      send: async (url, r) => {
        const res = await send(opts.pool, url, r);
        return { status: res.status, waitMs: res.waitMs, header: (name) => header(res.headers, name), text: () => res.text() };
      },
    });
  }
}
