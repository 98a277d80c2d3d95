/**
 * The browser entry's pure parts, under Node: ETag formatting without Buffer (etag.ts) equal to
 * Node's, the fingerprint's sampled blocks, and an unreadable answer from a lapsed URL counted as
 * expiry (what a browser sees of RGW's 403 without CORS headers).
 */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { putPart } from '../../client/engine/put-part.js';
import type { PartTransport } from '../../client/engine/ports.js';
import { NetworkError, UrlLapsedError } from '../../client/errors.js';
import { concatDigests, md5Base64, md5Hex, multipartEtagOf, sameBytes } from '../../client/etag.js';
import { multipartEtag } from '../../client/hashing.js';
import { classify } from '../../client/retry.js';
import { fingerprintKey, sampleOffsets } from '../../client/browser/fingerprint.js';

test('base64 and hex of any bytes are what Node gives', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
      expect(md5Base64(b)).toBe(Buffer.from(b).toString('base64'));
      expect(md5Hex(b)).toBe(Buffer.from(b).toString('hex'));
    }),
  );
});

test('the multipart ETag from concatenated digests equals the Node one', () => {
  const parts = [randomBytes(16), randomBytes(16), randomBytes(16)];
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
  expect(multipartEtagOf(md5(concatDigests(parts)), 3)).toBe(multipartEtag(parts));
  expect(sameBytes(parts[0]!, Uint8Array.from(parts[0]!))).toBe(true);
  expect(sameBytes(parts[0]!, parts[1]!)).toBe(false);
});

test('sampled blocks: the whole of a small file; first, last and evenly between for a big one', () => {
  expect(sampleOffsets(1000)).toEqual([0]);
  const big = 100 * 1024 * 1024;
  const o = sampleOffsets(big);
  expect(o).toHaveLength(8);
  expect(o[0]).toBe(0);
  expect(o[7]).toBe(big - 64 * 1024);
  expect([...o].sort((a, b) => a - b)).toEqual(o);
  expect(fingerprintKey('https://api/', { name: 'a', size: 1, last_modified: 2, sample_sha256: 'ff' })).toBe(fingerprintKey('https://api', { name: 'a', size: 1, last_modified: 2, sample_sha256: 'ff' }));
});

describe('a PUT with no readable answer', () => {
  const failing: PartTransport = { put: () => Promise.reject(new NetworkError('PUT part')) };
  const put = (urlExpiresAt: number) => putPart(failing, { partNumber: 3, url: 'http://s3/x', headers: {}, body: new Uint8Array(1), stallTimeoutMs: 5000, urlExpiresAt });

  test('from a URL past its lifetime is an expired URL: refreshed', async () => {
    const err = await put(Date.now() - 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UrlLapsedError);
    expect(classify(err)).toBe('refresh');
  });

  test('from a URL with time left is a network failure: retried with backoff', async () => {
    const err = await put(Date.now() + 10 * 60_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkError);
    expect(classify(err)).toBe('retry');
  });
});
