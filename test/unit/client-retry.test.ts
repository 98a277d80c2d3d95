import { ApiRequestError, FileMismatchError, PutPartError, StallError } from '../../client/errors.js';
import { backoffDelay, classify, parseRetryAfter, withRetry } from '../../client/retry.js';

const netErr = (code: string) => Object.assign(new Error(code), { code });

test.each([
  ['403 on a part PUT (expired or refused URL)', new PutPartError(1, 403, 'AccessDenied', 'Request has expired'), 'refresh'],
  ['403 signature mismatch', new PutPartError(1, 403, 'SignatureDoesNotMatch', undefined), 'refresh'],
  ['400 BadDigest', new PutPartError(1, 400, 'BadDigest', undefined), 'rehash'],
  ['400 RequestTimeout', new PutPartError(1, 400, 'RequestTimeout', undefined), 'retry'],
  ['503 SlowDown', new PutPartError(1, 503, 'SlowDown', undefined), 'retry'],
  ['500 on a PUT', new PutPartError(1, 500, 'InternalError', undefined), 'retry'],
  ['404 NoSuchUpload', new PutPartError(1, 404, 'NoSuchUpload', undefined), 'fatal'],
  ['400 other', new PutPartError(1, 400, 'InvalidArgument', undefined), 'fatal'],
  ['API 429', new ApiRequestError(429, { error: 'too_many_requests', message: '' }, 'x'), 'retry'],
  ['API 502 storage_error', new ApiRequestError(502, { error: 'storage_error', message: '' }, 'x'), 'retry'],
  ['API 503 without JSON', new ApiRequestError(503, undefined, 'x'), 'retry'],
  ['API 409 session_busy', new ApiRequestError(409, { error: 'session_busy', message: '' }, 'x'), 'retry'],
  ['API 429 too_many_open_sessions (a cap, not throttling)', new ApiRequestError(429, { error: 'too_many_open_sessions', message: '' }, 'x'), 'fatal'],
  ['API 404', new ApiRequestError(404, { error: 'not_found', message: '' }, 'x'), 'fatal'],
  ['API 400', new ApiRequestError(400, { error: 'validation_error', message: '' }, 'x'), 'fatal'],
  ['API 410', new ApiRequestError(410, { error: 'session_expired', message: '' }, 'x'), 'fatal'],
  ['connection reset', netErr('ECONNRESET'), 'retry'],
  ['connection refused', netErr('ECONNREFUSED'), 'retry'],
  ['wrapped (fetch-style) cause', Object.assign(new TypeError('fetch failed'), { cause: netErr('ETIMEDOUT') }), 'retry'],
  ['stall', new StallError('PUT part 1', 30_000), 'retry'],
  ['local file changed', new FileMismatchError('file_changed', 'x'), 'fatal'],
  ['unknown', new Error('what'), 'fatal'],
])('%s -> %s', (_name, err, kind) => {
  expect(classify(err)).toBe(kind);
});

test('backoff is exponential, jittered, capped, and honours Retry-After', () => {
  const p = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 5000 };
  expect(backoffDelay(p, 1, undefined, () => 1)).toBe(100);
  expect(backoffDelay(p, 3, undefined, () => 1)).toBe(400);
  expect(backoffDelay(p, 20, undefined, () => 1)).toBe(5000);
  expect(backoffDelay(p, 3, undefined, () => 0)).toBe(0);
  expect(backoffDelay(p, 1, 2000, () => 0.5)).toBe(2000);
  expect(backoffDelay(p, 1, 60_000, () => 0.5)).toBe(5000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(p, 4);
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(800);
  }
});

test('Retry-After in seconds or as a date', () => {
  expect(parseRetryAfter('2')).toBe(2000);
  expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
  expect(parseRetryAfter(undefined)).toBeUndefined();
});

test('withRetry retries transient failures only, up to maxAttempts', async () => {
  const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };
  let calls = 0;
  await expect(
    withRetry(async () => {
      calls++;
      throw netErr('ECONNRESET');
    }, policy),
  ).rejects.toThrow('ECONNRESET');
  expect(calls).toBe(3);

  calls = 0;
  await expect(
    withRetry(async () => {
      calls++;
      throw new ApiRequestError(400, { error: 'validation_error', message: 'no' }, 'x');
    }, policy),
  ).rejects.toThrow('validation_error');
  expect(calls).toBe(1);

  calls = 0;
  const notices: number[] = [];
  const v = await withRetry(
    async () => {
      if (++calls < 3) throw new ApiRequestError(503, undefined, 'x');
      return 'ok';
    },
    policy,
    { onRetry: (n) => notices.push(n.attempt) },
  );
  expect(v).toBe('ok');
  expect(notices).toEqual([1, 2]);
});

test('401/403 from the gateway (no error code in the body) name the token as the cause', () => {
  const missing = new ApiRequestError(401, { message: 'Unauthorized' } as never, 'init');
  expect(missing.code).toBe('unauthorized');
  expect(missing.message).toContain('needs a token');
  const refused = new ApiRequestError(403, { message: 'Forbidden' } as never, 'init');
  expect(refused.code).toBe('forbidden');
  expect(refused.message).toContain('refused the token');
  expect(refused.exitCode).toBe(6);
  const api = new ApiRequestError(404, { error: 'not_found', message: 'no upload session X' }, 'status');
  expect(api.message).toBe('status: no upload session X (not_found)');
});

test('withRetry recoveries: refresh and rehash are fatal without a handler, limited with one; a rehash past its limit backs off like a retry', async () => {
  const policy = { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 1 };
  const expired = () => new PutPartError(1, 403, 'SignatureDoesNotMatch', undefined);
  const badDigest = () => new PutPartError(1, 400, 'BadDigest', undefined);
  // The API client's use: no recoveries, so a refresh or rehash cause fails at once.
  let calls = 0;
  await expect(withRetry(async () => { calls++; throw expired(); }, policy)).rejects.toThrow(/SignatureDoesNotMatch/);
  await expect(withRetry(async () => { calls++; throw badDigest(); }, policy)).rejects.toThrow(/BadDigest/);
  expect(calls).toBe(2);

  // Refresh: at once (no onRetry), at most `limit` times, then the error.
  const log: string[] = [];
  calls = 0;
  await expect(
    withRetry(async () => { calls++; throw expired(); }, policy, {
      refresh: { limit: 2, run: async () => void log.push('refresh') },
      onRetry: () => log.push('backoff'),
    }),
  ).rejects.toThrow(/SignatureDoesNotMatch/);
  expect({ calls, log }).toEqual({ calls: 3, log: ['refresh', 'refresh'] });

  // Rehash: recover then back off; past the limit, back off without recovering, until maxAttempts.
  log.length = 0;
  calls = 0;
  await expect(
    withRetry(async () => { calls++; throw badDigest(); }, { ...policy, maxAttempts: 4 }, {
      rehash: { limit: 1, run: async () => void log.push('reread') },
      onRetry: (n) => log.push(`backoff ${n.attempt}`),
      beforeRetry: async () => void log.push('before'),
    }),
  ).rejects.toThrow(/BadDigest/);
  expect({ calls, log }).toEqual({ calls: 4, log: ['reread', 'backoff 1', 'before', 'backoff 2', 'before', 'backoff 3', 'before'] });

  // A recovery that fails ends the loop with its own error.
  await expect(
    withRetry(async () => { throw badDigest(); }, policy, { rehash: { limit: 2, run: async () => { throw new Error('file changed'); } } }),
  ).rejects.toThrow('file changed');
});
