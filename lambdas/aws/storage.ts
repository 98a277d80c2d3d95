/** S3 multipart operations. Bytes never pass through here: parts go straight to S3 via presigned URLs. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  S3ServiceException,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UploadedPart } from '../../contract/api.js';
import { S3_LIMITS } from '../../contract/limits.js';
import { ApiError } from '../core/errors.js';

export interface MultipartRef {
  key: string;
  uploadId: string;
}

export interface PresignedPart {
  part_number: number;
  url: string;
  headers: Record<string, string>;
}

/** Error names S3 (and compatible stores) use when the parts given to Complete do not add up. */
const PART_ERRORS = new Set(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall']);

export type CompleteOutcome =
  | { ok: true; etag: string }
  | { ok: false; reason: 'no_such_upload' }
  | { ok: false; reason: 'invalid_parts'; message: string };

export class UploadStorage {
  constructor(
    private readonly s3: S3Client,
    private readonly presignS3: S3Client,
    readonly bucket: string,
  ) {}

  async create(key: string, contentType: string, metadata: Record<string, string>): Promise<string> {
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, Metadata: metadata }),
    );
    if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    return out.UploadId;
  }

  /**
   * Signs a PUT for one part locally (no S3 call). With `md5`, Content-MD5 is a signed header:
   * the URL works only with that header, and S3 rejects a body whose digest differs.
   */
  async presignPart(ref: MultipartRef, partNumber: number, expiresIn: number, md5?: string): Promise<PresignedPart> {
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: ref.key,
      UploadId: ref.uploadId,
      PartNumber: partNumber,
      ...(md5 ? { ContentMD5: md5 } : {}),
    });
    const url = await getSignedUrl(this.presignS3, command, {
      expiresIn,
      ...(md5 ? { signableHeaders: new Set(['content-md5']) } : {}),
    });
    return { part_number: partNumber, url, headers: md5 ? { 'Content-MD5': md5 } : {} };
  }

  /** Every stored part, following ListParts pagination to the end. */
  async listParts(ref: MultipartRef): Promise<UploadedPart[]> {
    const parts: UploadedPart[] = [];
    let marker: string | undefined;
    do {
      const out = await this.s3.send(
        new ListPartsCommand({
          Bucket: this.bucket,
          Key: ref.key,
          UploadId: ref.uploadId,
          MaxParts: S3_LIMITS.listPartsPageSize,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      ).catch((e: unknown) => {
        // Gone from storage (aborted behind our back, e.g. by the lifecycle rule): say so, not 500.
        if (isNoSuchUpload(e)) throw new ApiError('session_aborted', 'the multipart upload no longer exists in storage');
        throw e;
      });
      for (const p of out.Parts ?? []) {
        if (p.PartNumber !== undefined && p.ETag !== undefined) {
          parts.push({ part_number: p.PartNumber, size: p.Size ?? 0, etag: p.ETag });
        }
      }
      marker = out.IsTruncated ? String(out.NextPartNumberMarker) : undefined;
    } while (marker !== undefined && marker !== 'undefined');
    return parts.sort((a, b) => a.part_number - b.part_number);
  }

  async complete(ref: MultipartRef, parts: readonly UploadedPart[]): Promise<CompleteOutcome> {
    try {
      const out = await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: ref.key,
          UploadId: ref.uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.part_number, ETag: p.etag })) },
        }),
      );
      // Some S3-compatible stores (Ceph RGW 16) answer Complete with an empty ETag; HeadObject has it.
      const etag = out.ETag || (await this.head(ref.key))?.etag || '';
      return { ok: true, etag };
    } catch (e) {
      if (isNoSuchUpload(e)) return { ok: false, reason: 'no_such_upload' };
      if (e instanceof S3ServiceException && PART_ERRORS.has(e.name)) {
        return { ok: false, reason: 'invalid_parts', message: e.message };
      }
      throw e;
    }
  }

  /** Idempotent: an upload that is already gone counts as aborted. */
  async abort(ref: MultipartRef): Promise<void> {
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: ref.key, UploadId: ref.uploadId }));
    } catch (e) {
      if (!isNoSuchUpload(e)) throw e;
    }
  }

  /** The stored object's size and ETag, or undefined when there is none. */
  async head(key: string): Promise<{ size: number; etag: string } | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: out.ContentLength ?? 0, etag: out.ETag ?? '' };
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'NotFound' || e.$metadata.httpStatusCode === 404)) return undefined;
      throw e;
    }
  }
}

/** NoSuchUpload, or NoSuchKey as Ceph RGW answers ListParts on an aborted upload. */
function isNoSuchUpload(e: unknown): boolean {
  return e instanceof NoSuchUpload || (e instanceof S3ServiceException && (e.name === 'NoSuchUpload' || e.name === 'NoSuchKey'));
}
