/** The one place where results and errors become HTTP responses. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ApiError, isApiError } from '../core/errors.js';
import { NETWORK_CODES } from '../../contract/network-codes.js';

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** AWS error names that mean "slow down", from DynamoDB and S3. */
const THROTTLES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

/**
 * A transaction is throttled differently: DynamoDB cancels it (TransactionCanceledException)
 * and names the throttle in the per-item cancellation reasons, not in the error's name.
 */
const THROTTLE_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

function isThrottle(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (THROTTLES.has(e.name)) return true;
  if (e.name !== 'TransactionCanceledException') return false;
  const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code !== undefined && THROTTLE_REASONS.has(r.Code));
}

/** Maps anything thrown to an ApiError; unknown errors become a 500 that reveals nothing. */
export function toApiError(e: unknown): ApiError {
  if (isApiError(e)) return e;
  const name = e instanceof Error ? e.name : '';
  if (isThrottle(e)) {
    return new ApiError('too_many_requests', 'the service is busy; retry shortly', {}, { 'Retry-After': '1' });
  }
  const fault = (e as { $fault?: string; $metadata?: { httpStatusCode?: number }; code?: unknown } | null) ?? null;
  if (fault?.$fault === 'server' && fault.$metadata?.httpStatusCode !== undefined) {
    return new ApiError('storage_error', 'a storage service failed; retry shortly', {}, { 'Retry-After': '1' });
  }
  // An AWS SDK call (it attaches $metadata) that got no HTTP answer after its own retries: S3 or
  // DynamoDB unreachable. Retryable like a 5xx from them, and not a bug of ours.
  if (fault?.$metadata && fault.$metadata.httpStatusCode === undefined && (NETWORK_CODES.has(String(fault.code)) || name === 'TimeoutError')) {
    return new ApiError('storage_error', 'a storage service could not be reached; retry shortly', {}, { 'Retry-After': '1' });
  }
  return new ApiError('internal_error', 'internal error');
}

export function errorResponse(error: ApiError): APIGatewayProxyStructuredResultV2 {
  return json(error.status, { error: error.code, message: error.message, ...error.details }, error.headers);
}
