/**
 * The client's failures. Each kind carries the process exit code the CLI uses for it, so the
 * library decides what went wrong and the CLI only prints `message` and exits with `exitCode`.
 */
import type { ErrorBody } from '../contract/api.js';
import type { ErrorCode } from '../contract/error-codes.js';
import { refusalHint } from './storage-refusal.js';
import { NETWORK_CODES } from '../contract/network-codes.js';

/** The one list of connection-failure codes, shared with the API (contract/network-codes.ts). */
export { NETWORK_CODES };

/** Documented exit codes of `mpu` (see client/README.md). */
export const EXIT = {
  ok: 0,
  /** Upload or request failed for a reason not listed below. */
  failure: 1,
  /** Bad arguments, no API configured. */
  usage: 2,
  /** Local file does not match the session (changed since, or changed during the upload). */
  fileMismatch: 3,
  /** The session cannot be used: unknown, aborted, expired, or already completed with other content. */
  session: 4,
  /** The API or storage stayed unreachable or overloaded after all retries. */
  unavailable: 5,
  /** The API refused our credentials. */
  unauthorized: 6,
  /** Storage assembled an object whose ETag differs from the one computed from the local file. */
  integrity: 7,
  /**
   * Storage refused the part writes for a reason a fresh URL does not fix (quota full, access
   * denied by policy, unknown access key, account problem). The session is kept.
   */
  storageRefused: 8,
  /** Interrupted (Ctrl-C); the session is kept and can be resumed. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class MpuError extends Error {
  /** Short machine-readable cause, e.g. `file_changed`, or the server's error code. */
  readonly code: string;
  readonly exitCode: ExitCode;
  /** Set when a session exists that a later run may resume. */
  sessionId?: string;

  constructor(code: string, message: string, exitCode: ExitCode = EXIT.failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

export class UsageError extends MpuError {
  constructor(message: string) {
    super('usage', message, EXIT.usage);
  }
}

/** A non-2xx answer of the upload API; `code` is the server's `error` field when it sent one. */
/**
 * API Gateway (and the authorizer in front of the handlers) answers 401/403 with only
 * `{"message": ...}`: name the likely cause instead of a bare status.
 */
const GATEWAY_CODES: Record<number, string> = { 401: 'unauthorized', 403: 'forbidden' };
const GATEWAY_HINTS: Record<number, string> = {
  401: 'the API needs a token: pass --token, set MPU_TOKEN, or add "token" to the config file',
  403: 'the API refused the token (unknown, revoked, expired or mistyped)',
};

/**
 * A 401 although a token was sent: a JWT authorizer refused it, and says why in
 * `www-authenticate` (RFC 6750 `error_description`, e.g. the token has expired).
 */
function refusedTokenHint(wwwAuthenticate: string | undefined): string {
  const reason = /error_description="([^"]*)"/.exec(wwwAuthenticate ?? '')?.[1];
  return `the API refused the token${reason ? `: ${reason}` : ''} (a JWT: expired, for another audience or issuer, or badly signed?)`;
}

export class ApiRequestError extends MpuError {
  readonly status: number;
  readonly body: ErrorBody | undefined;
  /** From `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(status: number, body: ErrorBody | undefined, what: string, retryAfterMs?: number, auth?: { tokenSent: boolean; wwwAuthenticate?: string | undefined }) {
    const code = body?.error ?? GATEWAY_CODES[status] ?? `http_${status}`;
    const hint = status === 401 && auth?.tokenSent ? refusedTokenHint(auth.wwwAuthenticate) : GATEWAY_HINTS[status];
    super(code, `${what}: ${body?.error ? body.message : (hint ?? body?.message ?? `HTTP ${status}`)} (${code})`, exitCodeForApi(status, code));
    this.status = status;
    this.body = body;
    this.retryAfterMs = retryAfterMs;
  }
}

/** True if `code` (from an error body) is one of `codes`; the list is checked against the contract. */
export function isApiCode(code: string, codes: readonly ErrorCode[]): boolean {
  return (codes as readonly string[]).includes(code);
}

function exitCodeForApi(status: number, code: string): ExitCode {
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (isApiCode(code, ['not_found', 'session_aborted', 'session_expired', 'session_completed'])) return EXIT.session;
  if (status === 429 || status >= 500) return EXIT.unavailable;
  return EXIT.failure;
}

/** A presigned part PUT answered with a non-2xx status; `s3Code` is the `<Code>` of the XML error. */
export class PutPartError extends MpuError {
  readonly status: number;
  readonly s3Code: string | undefined;
  readonly s3Message: string | undefined;
  readonly partNumber: number;
  readonly retryAfterMs: number | undefined;
  /** When the refused URL stops working (ms since epoch), if the caller knew. */
  readonly urlExpiresAt: number | undefined;
  /** When the answer arrived (ms since epoch). */
  readonly answeredAt: number;

  constructor(
    partNumber: number,
    status: number,
    s3Code: string | undefined,
    s3Message: string | undefined,
    more: { retryAfterMs?: number; urlExpiresAt?: number; answeredAt?: number } = {},
  ) {
    const code = s3Code ?? `http_${status}`;
    const hint = refusalHint(s3Code);
    super(
      code,
      `storage refused part ${partNumber}: ${code}${s3Message ? ` (${s3Message})` : ''}${hint ? `: ${hint}` : ''}`,
      status === 429 || status >= 500 ? EXIT.unavailable : status === 403 ? EXIT.storageRefused : EXIT.failure,
    );
    this.status = status;
    this.s3Code = s3Code;
    this.s3Message = s3Message;
    this.partNumber = partNumber;
    this.retryAfterMs = more.retryAfterMs;
    this.urlExpiresAt = more.urlExpiresAt;
    this.answeredAt = more.answeredAt ?? Date.now();
  }
}

/** No request progress for too long: the connection is presumed dead and the request retried. */
export class StallError extends MpuError {
  constructor(what: string, ms: number) {
    super('stalled', `${what}: no progress for ${Math.round(ms / 1000)} s`, EXIT.unavailable);
  }
}

/** The local file is not the one the session holds parts of, or it changed while uploading. */
export class FileMismatchError extends MpuError {
  constructor(code: 'file_changed' | 'part_mismatch' | 'size_mismatch', message: string) {
    super(code, message, EXIT.fileMismatch);
  }
}

export class SessionStateError extends MpuError {
  constructor(code: string, message: string) {
    super(code, message, EXIT.session);
  }
}

export class IntegrityError extends MpuError {
  constructor(message: string) {
    super('etag_mismatch', message, EXIT.integrity);
  }
}

/** The caller's signal stopped the upload; parts already stored stay, the session can be resumed. */
export class InterruptedError extends MpuError {
  readonly partsSent: number;
  constructor(sessionId: string, partsSent: number) {
    super('interrupted', `upload interrupted; session ${sessionId} kept`, EXIT.interrupted);
    this.sessionId = sessionId;
    this.partsSent = partsSent;
  }
}

/** Any error as an MpuError (unknown errors keep their message, exit 1, or 5 for network causes). */
export function toMpuError(err: unknown): MpuError {
  if (err instanceof MpuError) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : 'error';
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  return new MpuError(code, message, NETWORK_CODES.has(code) ? EXIT.unavailable : EXIT.failure, { cause: err });
}

/**
 * A request that got no answer at all (a browser's fetch rejects with a bare TypeError: offline,
 * connection refused or reset, CORS refusal); retried like Node's connection errors.
 */
export class NetworkError extends MpuError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('network', `${what}: no answer (network failure)`, EXIT.unavailable, options);
  }
}

/** A session that cannot be continued (gone, aborted, expired): a remembered one is replaced by a new upload. */
export function isDeadSession(err: unknown): boolean {
  if (err instanceof SessionStateError) return true;
  return err instanceof ApiRequestError && isApiCode(err.code, ['not_found', 'session_aborted', 'session_expired']);
}

/**
 * A part PUT that got no readable answer once its URL's lifetime was over. In a browser a
 * storage refusal without CORS headers is unreadable (fetch rejects as for a network failure):
 * Ceph RGW 16.2.15 sends none on the 403 of an expired presigned URL. A fresh URL is what helps.
 */
export class UrlLapsedError extends MpuError {
  constructor(partNumber: number, options?: { cause?: unknown }) {
    super('url_lapsed', `PUT part ${partNumber}: no readable answer, and its URL had expired`, EXIT.unavailable, options);
  }
}
