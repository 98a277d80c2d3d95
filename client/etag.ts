/**
 * ETag and digest formatting of S3 multipart uploads, with no dependency on Node or the DOM (the
 * browser entry and the engine use it): a part's ETag is the quoted hex MD5 of its bytes; the
 * object's ETag is `"<hex md5 of the concatenated binary part MD5s>-<part count>"`. Pure.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** `Content-MD5` header value: base64 of the 16-byte digest. */
export function md5Base64(digest: Uint8Array): string {
  let out = '';
  for (let i = 0; i < digest.length; i += 3) {
    const a = digest[i]!;
    const b = digest[i + 1];
    const c = digest[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
  }
  return out;
}

export function md5Hex(digest: Uint8Array): string {
  let out = '';
  for (const b of digest) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Storage sends ETags quoted (and some proxies add `W/`); compare them bare and lower-case. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1').toLowerCase();
}

/** True when a stored part's ETag is the MD5 we computed for the same bytes. */
export function etagMatches(etag: string, digest: Uint8Array): boolean {
  return normalizeEtag(etag) === md5Hex(digest);
}

/** The part MD5s one after another: what the multipart ETag is the MD5 of. */
export function concatDigests(partDigests: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(partDigests.reduce((n, d) => n + d.length, 0));
  let o = 0;
  for (const d of partDigests) {
    all.set(d, o);
    o += d.length;
  }
  return all;
}

/** The multipart ETag (unquoted) from the MD5 of the concatenated part digests and their count. */
export function multipartEtagOf(md5OfDigests: Uint8Array, parts: number): string {
  return `${md5Hex(md5OfDigests)}-${parts}`;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
