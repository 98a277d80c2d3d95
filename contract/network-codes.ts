/**
 * Error codes of a request that never got an answer: the connection was refused, reset, timed out
 * or could not be made (Node sockets and DNS). They say the other side was
 * unreachable, nothing about the request, so callers retry them: the API maps them to a retryable
 * 502 (S3 or DynamoDB unreachable), the client retries and finally exits 5 (unavailable).
 */
export const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
