/**
 * Turns untrusted request bodies into checked values, or an ApiError with a clear message.
 * Pure: the limits come in as arguments (from Config), nothing is read from the environment.
 */
import type * as z from 'zod';
import { ApiError } from './errors.js';
import { API_LIMITS, S3_LIMITS } from '../../contract/limits.js';
import { checkRelativePath } from './filename.js';
import { countParts, defaultChunkSize, minimumChunkSize, type PartPlan } from '../../contract/parts.js';
import { initRequestSchema, type InitRequest } from '../../contract/api.js';

export interface UploadLimits {
  minPartSize: number;
  maxFileSize: number;
  /** Chunk size without `chunk_size`, before it is raised to fit the file (see defaultChunkSize). */
  defaultChunkSize: number;
}

/** Parses `body` with `schema`; a mismatch becomes a 400 that names the first bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ApiError('validation_error', `${where}: ${issue.message}`);
}

const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\r\n]*"|[\w.+-]+))*$/;

export interface CheckedInit {
  /** The base name or relative path, NFC. */
  filename: string;
  contentType: string;
  chunkSize: number;
  /** undefined for a stream (no `file_size`): its parts are counted at complete. */
  plan: PartPlan | undefined;
}

export function checkInit(body: unknown, limits: UploadLimits): CheckedInit {
  const req: InitRequest = parseBody(initRequestSchema, body);
  const name = checkRelativePath(req.filename);
  if (!name.ok) throw new ApiError('validation_error', name.reason);

  const contentType = req.content_type ?? 'application/octet-stream';
  if (contentType.length > API_LIMITS.maxContentTypeLength || !CONTENT_TYPE.test(contentType)) {
    throw new ApiError('validation_error', 'content_type must be a media type such as "video/mp4"');
  }

  if (req.file_size === undefined) {
    // A stream: its size shows at complete. Without chunk_size the default caps it at 10,000
    // parts of 5 MiB (48.8 GiB); a client expecting more asks for bigger parts.
    const chunkSize = req.chunk_size ?? limits.defaultChunkSize;
    checkChunkRange(chunkSize, limits);
    return { filename: name.filename, contentType, chunkSize, plan: undefined };
  }
  const maxFile = maxFileSize(limits);
  if (req.file_size > maxFile) {
    throw new ApiError('file_too_large', `file_size ${req.file_size} exceeds the maximum of ${maxFile} bytes`);
  }

  const chunkSize = req.chunk_size ?? defaultChunkSize(req.file_size, limits.defaultChunkSize);
  checkChunkRange(chunkSize, limits);
  const totalParts = countParts(req.file_size, chunkSize);
  if (totalParts > S3_LIMITS.maxParts) {
    throw new ApiError(
      'validation_error',
      `chunk_size ${chunkSize} splits the file into ${totalParts} parts; S3 allows ${S3_LIMITS.maxParts}. ` +
        `Use a chunk_size of at least ${minimumChunkSize(req.file_size, limits.minPartSize)} bytes`,
    );
  }
  return { filename: name.filename, contentType, chunkSize, plan: { fileSize: req.file_size, chunkSize, totalParts } };
}

/** The largest object the stack stores: its own limit, within S3's. */
export function maxFileSize(limits: Pick<UploadLimits, 'maxFileSize'>): number {
  return Math.min(limits.maxFileSize, S3_LIMITS.maxObjectSize);
}

function checkChunkRange(chunkSize: number, limits: UploadLimits): void {
  if (chunkSize < limits.minPartSize) {
    throw new ApiError('validation_error', `chunk_size must be at least ${limits.minPartSize} bytes`);
  }
  if (chunkSize > S3_LIMITS.maxPartSize) {
    throw new ApiError('validation_error', `chunk_size must be at most ${S3_LIMITS.maxPartSize} bytes`);
  }
}

/**
 * The parts of a stream session at complete: `totalParts` (1..10,000) parts, each of exactly
 * `chunkSize` but the last (1..chunkSize bytes, or 0 when it is the only one). Returns the plan
 * they make, or throws the 4xx that says what is wrong. `stored` are the parts storage holds.
 */
export function checkStreamParts(
  totalParts: number,
  chunkSize: number,
  stored: ReadonlyMap<number, number>,
  limits: Pick<UploadLimits, 'maxFileSize'>,
): PartPlan {
  if (totalParts > S3_LIMITS.maxParts) {
    throw new ApiError('validation_error', `total_parts must be at most ${S3_LIMITS.maxParts}`);
  }
  const missing: number[] = [];
  for (let n = 1; n <= totalParts; n++) if (!stored.has(n)) missing.push(n);
  if (missing.length > 0) {
    throw new ApiError('missing_parts', `${missing.length} of ${totalParts} parts are missing`, { missing_parts: missing });
  }
  const last = stored.get(totalParts)!;
  const wrong: number[] = [];
  for (let n = 1; n < totalParts; n++) if (stored.get(n) !== chunkSize) wrong.push(n);
  if (last > chunkSize || (last === 0 && totalParts > 1)) wrong.push(totalParts);
  if (wrong.length > 0) {
    throw new ApiError('part_mismatch', `${wrong.length} parts have the wrong size for parts of ${chunkSize} bytes; upload them again`, {
      mismatched_parts: wrong,
    });
  }
  const fileSize = (totalParts - 1) * chunkSize + last;
  const maxFile = maxFileSize(limits);
  if (fileSize > maxFile) throw new ApiError('file_too_large', `the stream's ${fileSize} bytes exceed the maximum of ${maxFile} bytes`);
  return { fileSize, chunkSize, totalParts };
}

/** Part numbers asked for in one request: within 1..totalParts, no repeats, not too many. */
export function checkPartNumbers(partNumbers: readonly number[], totalParts: number): void {
  if (partNumbers.length > API_LIMITS.maxUrlsPerRequest) {
    throw new ApiError('validation_error', `at most ${API_LIMITS.maxUrlsPerRequest} parts per request`);
  }
  const seen = new Set<number>();
  for (const n of partNumbers) {
    if (n < 1 || n > totalParts) {
      throw new ApiError('validation_error', `part_number ${n} is outside 1..${totalParts}`);
    }
    if (seen.has(n)) throw new ApiError('validation_error', `part_number ${n} is repeated`);
    seen.add(n);
  }
}
