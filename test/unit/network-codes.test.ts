/**
 * One list of "the connection failed" error codes (issue 9, defect 10: it was defined twice and
 * the two copies differed): the API maps them to a retryable 502, the client to a retry and
 * exit 5, for every code alike.
 */
import { EXIT, toMpuError } from '../../client/errors.js';
import { classify } from '../../client/retry.js';
import { toApiError } from '../../lambdas/http/response.js';

/** Node's socket and DNS codes (both sides now speak HTTP through node:http). */
const CODES = [
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'ENOTFOUND', 'EAI_AGAIN',
];

/** An AWS SDK call that got no HTTP answer: `$metadata` without a status, the socket's code. */
const sdkNetworkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code, $metadata: {} });
const nodeError = (code: string) => Object.assign(new Error(`socket ${code}`), { code });

test.each(CODES)('%s: the API answers 502 storage_error (retryable)', (code) => {
  const e = toApiError(sdkNetworkError(code));
  expect({ code: e.code, status: e.status, retryAfter: e.headers['Retry-After'] }).toEqual({ code: 'storage_error', status: 502, retryAfter: '1' });
});

test.each(CODES)('%s: the client retries it, and reports it as unreachable (exit 5)', (code) => {
  expect(classify(nodeError(code))).toBe('retry');
  expect(classify(new TypeError('fetch failed', { cause: nodeError(code) }))).toBe('retry');
  expect(toMpuError(nodeError(code)).exitCode).toBe(EXIT.unavailable);
});

test('other codes are not network failures on either side', () => {
  expect(toApiError(sdkNetworkError('EACCES')).code).toBe('internal_error');
  expect(classify(nodeError('EACCES'))).toBe('fatal');
  expect(toMpuError(nodeError('EACCES')).exitCode).toBe(EXIT.failure);
});
