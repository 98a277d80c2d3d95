/**
 * The server's error: one code of the contract's vocabulary (contract/error-codes.ts) and its
 * status, mapped to a response in exactly one place (http/response.ts).
 */
import { ERROR_STATUS, type ErrorCode } from '../../contract/error-codes.js';

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
