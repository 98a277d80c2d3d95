/**
 * MD5 on Node's crypto (the CLI, the library's Node entry, tests and tools), and the pure ETag
 * formatting of etag.ts re-exported for them.
 */
import { createHash } from 'node:crypto';
import { concatDigests, multipartEtagOf } from './etag.js';

export { md5Base64, md5Hex, normalizeEtag, etagMatches } from './etag.js';

export function md5(data: Uint8Array): Buffer {
  return createHash('md5').update(data).digest();
}

/** The ETag S3 gives the object assembled from parts with these MD5s (in part order), unquoted. */
export function multipartEtag(partDigests: readonly Uint8Array[]): string {
  return multipartEtagOf(md5(concatDigests(partDigests)), partDigests.length);
}
