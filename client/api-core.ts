/**
 * Typed client of the upload API (paths from contract/routes.ts, bodies from contract/api.ts),
 * over whatever sends an HTTP request (Node's http in api-client.ts, fetch in a browser).
 * Every call is retried by cause (429/5xx/connection failures), and a non-2xx answer becomes an
 * ApiRequestError carrying the server's `error` code.
 */
import type {
  AbortResponse,
  CompleteRequest,
  CompleteResponse,
  ErrorBody,
  InitRequest,
  InitResponse,
  PartUrlRequest,
  PartUrlResponse,
  StatusResponse,
} from '../contract/api.js';
import { ROUTES, routePath, type RouteId } from '../contract/routes.js';
import { SERVER_TIMING_HEADER, serverDurationMs } from '../contract/server-timing.js';
import { ApiRequestError, MpuError, StallError } from './errors.js';
import { DEFAULT_RETRY, parseRetryAfter, withRetry, type RetryNotice, type RetryPolicy } from './retry.js';

/** One HTTP exchange; network failures reject, HTTP errors resolve. */
export type ApiSend = (
  url: string,
  r: { method: string; headers: Record<string, string>; body: string | undefined; signal: AbortSignal },
) => Promise<{
  status: number;
  header(name: string): string | undefined;
  text(): Promise<string>;
  /** From the request sent to the response's headers, where the transport can tell (http.ts). */
  waitMs?: number;
}>;

export interface ApiCoreOptions {
  /** Base URL of the HTTP API, possibly with a stage path (`https://id.execute-api.../prod`). */
  baseUrl: string;
  send: ApiSend;
  /** Sent as `Authorization: Bearer <token>`; a function is asked before each call (a JWT that refreshes). */
  token?: string | (() => string | Promise<string>);
  retry?: RetryPolicy;
  /** One API call may take at most this long before it counts as a stalled (retryable) attempt. */
  timeoutMs?: number;
  onRetry?: (what: string, n: RetryNotice) => void;
  userAgent?: string;
}

export class ApiCore {
  readonly baseUrl: string;
  private readonly opts: ApiCoreOptions;
  private rtt: number | undefined;

  /**
   * The network's round trip to the API (ms): the shortest wait for a response less the API's
   * own time (its Server-Timing header); undefined until an answer carried both.
   */
  get networkRttMs(): number | undefined {
    return this.rtt;
  }

  constructor(opts: ApiCoreOptions) {
    this.opts = opts;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  /**
   * One `Idempotency-Key` per call, the same on each of its retries: when an answer is lost and
   * the init retried, the API returns the session it already opened instead of a second one.
   */
  init(body: InitRequest, signal?: AbortSignal): Promise<InitResponse> {
    return this.call<InitResponse>('init', {}, body, signal, { 'idempotency-key': globalThis.crypto.randomUUID() });
  }

  partUrls(sessionId: string, parts: PartUrlRequest['parts'], signal?: AbortSignal): Promise<PartUrlResponse> {
    return this.call<PartUrlResponse>('parts', { session_id: sessionId }, { parts }, signal);
  }

  status(sessionId: string, signal?: AbortSignal): Promise<StatusResponse> {
    return this.call<StatusResponse>('status', { session_id: sessionId }, undefined, signal);
  }

  complete(sessionId: string, parts?: CompleteRequest['parts'], signal?: AbortSignal): Promise<CompleteResponse> {
    return this.call<CompleteResponse>('complete', { session_id: sessionId }, parts ? { parts } : {}, signal);
  }

  abort(sessionId: string, signal?: AbortSignal): Promise<AbortResponse> {
    return this.call<AbortResponse>('abort', { session_id: sessionId }, undefined, signal);
  }

  private call<T>(id: RouteId, params: Record<string, string>, body: unknown, signal?: AbortSignal, extraHeaders: Record<string, string> = {}): Promise<T> {
    const route = ROUTES.find((r) => r.id === id)!;
    const path = routePath(id, params);
    const what = `${route.method} ${path}`;
    return withRetry(() => this.once<T>(route.method, path, body, what, extraHeaders, signal), this.opts.retry ?? DEFAULT_RETRY, {
      signal,
      onRetry: (n) => this.opts.onRetry?.(what, n),
    });
  }

  private async once<T>(method: string, path: string, body: unknown, what: string, extraHeaders: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(new StallError(what, timeoutMs)), timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await this.opts.send(this.baseUrl + path, { method, headers, body: payload, signal: combined });
      this.noteRoundTrip(res.waitMs, serverDurationMs(res.header(SERVER_TIMING_HEADER)));
      const text = await res.text();
      const json = parseJson(text);
      if (res.status >= 200 && res.status < 300) {
        if (json === undefined || typeof json !== 'object' || json === null) {
          throw new MpuError('bad_response', `${what}: expected a JSON object, got ${JSON.stringify(text.slice(0, 120))}`);
        }
        return json as T;
      }
      const errBody = isErrorBody(json) ? json : undefined;
      throw new ApiRequestError(res.status, errBody, what, parseRetryAfter(res.header('retry-after')), {
        tokenSent: Boolean(token),
        wwwAuthenticate: res.header('www-authenticate'),
      });
    } catch (err) {
      // Our timer's abort surfaces as the signal's reason; report it as a stall (retryable).
      if (timer.signal.aborted && !signal?.aborted) throw timer.signal.reason;
      throw err;
    } finally {
      clearTimeout(t);
    }
  }

  /** The minimum filters out answers delayed by a busy server or a cold start. */
  private noteRoundTrip(waitMs: number | undefined, serverMs: number | undefined): void {
    const net = networkPart(waitMs, serverMs);
    if (net !== undefined) this.rtt = this.rtt === undefined ? net : Math.min(this.rtt, net);
  }
}

/** The network's share of a wait for a response: what the server did not spend. */
export function networkPart(waitMs: number | undefined, serverMs: number | undefined): number | undefined {
  if (waitMs === undefined || serverMs === undefined) return undefined;
  return Math.max(0, waitMs - serverMs);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(v: unknown): v is ErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as ErrorBody).error === 'string';
}
