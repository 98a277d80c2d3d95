/**
 * The API's error vocabulary: every failure a caller can see has one code and one HTTP status,
 * defined here and mapped to a response in exactly one place (http/response.ts).
 */
export const ERROR_STATUS = {
  validation_error: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  missing_parts: 409,
  part_mismatch: 409,
  session_busy: 409,
  session_completed: 409,
  session_aborted: 410,
  session_expired: 410,
  payload_too_large: 413,
  file_too_large: 413,
  unsupported_media_type: 415,
  /** An Idempotency-Key sent again with a different request: a new upload needs a new key. */
  idempotency_key_reused: 422,
  too_many_requests: 429,
  /** The owner holds the most open sessions allowed; it clears when one completes, aborts or expires. */
  too_many_open_sessions: 429,
  internal_error: 500,
  storage_error: 502,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields merged into the JSON body (e.g. `missing_parts`). */
  readonly details: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = details;
    this.headers = headers;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
