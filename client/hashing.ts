/**
 * MD5 maths of S3 multipart uploads: a part's ETag is the quoted hex MD5 of its bytes; the
 * object's ETag is `"<hex md5 of the concatenated binary part MD5s>-<part count>"`. Pure.
 */
import { createHash } from 'node:crypto';

export function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}

/** `Content-MD5` header value: base64 of the 16-byte digest. */
export function md5Base64(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64');
}

export function md5Hex(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('hex');
}

/** Storage sends ETags quoted (and some proxies add `W/`); compare them bare and lower-case. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1').toLowerCase();
}

/** The ETag S3 gives the object assembled from parts with these MD5s (in part order), unquoted. */
export function multipartEtag(partDigests: readonly Uint8Array[]): string {
  const h = createHash('md5');
  for (const d of partDigests) h.update(d);
  return `${h.digest('hex')}-${partDigests.length}`;
}

/** True when a stored part's ETag is the MD5 we computed for the same bytes. */
export function etagMatches(etag: string, digest: Uint8Array): boolean {
  return normalizeEtag(etag) === md5Hex(digest);
}
