/**
 * The API's error vocabulary: every failure a caller can see has one code and one HTTP status.
 * The server raises them (lambdas/core/errors.ts ApiError) and maps them to a response in one
 * place (lambdas/http/response.ts); the client reads `error` of the body as one of these codes.
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
