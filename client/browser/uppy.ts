/**
 * Our API behind Uppy's S3 plugin: the custom functions of `@uppy/aws-s3` 5.x (6.0 removed them),
 * so an existing Uppy app uploads through init / parts / status / complete / abort:
 *
 *   uppy.use(AwsS3, mpuAwsS3Options({ apiUrl, token }))
 *
 * The S3 key Uppy tracks is our session id. Each part's MD5 is computed in the worker and bound
 * into its URL (storage refuses altered bytes with BadDigest); on resume, stored parts whose ETag
 * is not the file's part MD5 are left out of `listParts`, so Uppy sends them again; complete checks
 * the object's ETag against the part MD5s. No Uppy import: the options are plain functions.
 */
import type { ApiCore } from '../api-core.js';
import { defaultChunkSize } from '../../contract/parts.js';
import { concatDigests, etagMatches, md5Base64, multipartEtagOf, normalizeEtag } from '../etag.js';
import { IntegrityError, MpuError } from '../errors.js';
import type { WorkerMd5 } from './worker-md5.js';

/** The part of an UppyFile these functions read. */
export interface UppyFileLike {
  name?: string;
  size: number | null;
  type?: string;
  /** A Blob for local files; remote files (Companion) carry no bytes and are refused. */
  data?: Blob | { size: number | null };
}
export interface UppyPart {
  PartNumber?: number;
  Size?: number;
  ETag?: string;
}
interface Ids {
  uploadId?: string;
  key: string;
  signal?: AbortSignal;
}

export interface MpuUppyOptions {
  api: ApiCore;
  md5: WorkerMd5;
  /** Part size; default the server's rule for the file's size. Sent as chunk_size. */
  chunkSize?: number;
  /** Parallel part uploads per file (Uppy's `limit`). */
  limit?: number;
}

export function mpuAwsS3Options(o: MpuUppyOptions) {
  const chunkFor = (size: number) => o.chunkSize ?? defaultChunkSize(size);
  /** Part MD5s per session, for the object's ETag at complete. */
  const digests = new Map<string, Map<number, Uint8Array>>();
  const partDigests = (id: string) => digests.get(id) ?? digests.set(id, new Map()).get(id)!;
  const dataOf = (file: UppyFileLike): Blob => {
    if (!(file.data instanceof Blob)) throw new MpuError('usage', `${file.name ?? 'file'}: only local files can be uploaded`);
    return file.data;
  };
  const partBlob = (file: UppyFileLike, chunk: number, n: number) => dataOf(file).slice((n - 1) * chunk, Math.min(n * chunk, dataOf(file).size));

  return {
    shouldUseMultipart: true as const,
    limit: o.limit ?? 4,
    getChunkSize: (file: { size: number }) => chunkFor(file.size),

    async createMultipartUpload(file: UppyFileLike): Promise<{ uploadId: string; key: string }> {
      const size = file.size ?? dataOf(file).size;
      const chunk = chunkFor(size);
      const r = await o.api.init({ filename: file.name || 'upload', file_size: size, chunk_size: chunk, ...(file.type ? { content_type: file.type } : {}) });
      // Uppy cuts the file by its own chunk size: any other plan would misnumber every part.
      if (r.chunk_size !== chunk) throw new MpuError('chunk_size_mismatch', `the API planned ${r.chunk_size}-byte parts, Uppy cuts ${chunk}-byte parts`);
      return { uploadId: r.session_id, key: r.session_id };
    },

    async signPart(file: UppyFileLike, p: Ids & { partNumber: number; body: Blob }): Promise<{ method: 'PUT'; url: string; headers: Record<string, string> }> {
      const digest = await o.md5.ofBlob(p.body);
      partDigests(p.key).set(p.partNumber, digest);
      const r = await o.api.partUrls(p.key, [{ part_number: p.partNumber, md5: md5Base64(digest) }], p.signal);
      const u = r.parts.find((x) => x.part_number === p.partNumber);
      if (!u) throw new MpuError('bad_response', `the API returned no URL for part ${p.partNumber}`);
      return { method: 'PUT', url: u.url, headers: { ...u.headers } };
    },

    async listParts(file: UppyFileLike, p: Ids): Promise<UppyPart[]> {
      const s = await o.api.status(p.key, p.signal);
      const chunk = s.chunk_size;
      const out: UppyPart[] = [];
      for (const part of s.uploaded_parts) {
        // Only parts that are this file's bytes count as stored; the others are sent again.
        const digest = await o.md5.ofBlob(partBlob(file, chunk, part.part_number));
        if (!etagMatches(part.etag, digest)) continue;
        partDigests(p.key).set(part.part_number, digest);
        out.push({ PartNumber: part.part_number, Size: part.size, ETag: part.etag });
      }
      return out;
    },

    async completeMultipartUpload(file: UppyFileLike, p: Ids & { parts: UppyPart[] }): Promise<{ location: string }> {
      const parts = p.parts.map((x) => ({ part_number: x.PartNumber!, etag: x.ETag! })).sort((a, b) => a.part_number - b.part_number);
      const done = await o.api.complete(p.key, parts, p.signal);
      const known = partDigests(p.key);
      const all = parts.map((x) => known.get(x.part_number));
      if (all.every((d) => d !== undefined)) {
        const expected = multipartEtagOf(await o.md5.ofBytes(concatDigests(all as Uint8Array[])), all.length);
        if (!done.etag || normalizeEtag(done.etag) !== expected) {
          throw new IntegrityError(`storage assembled ${done.file_path} with ETag ${done.etag ?? 'none'}, but the file's parts give ${expected}`);
        }
      }
      digests.delete(p.key);
      return { location: done.file_path };
    },

    async abortMultipartUpload(file: UppyFileLike, p: Ids): Promise<void> {
      digests.delete(p.key);
      await o.api.abort(p.key, p.signal);
    },
  };
}
