/** Part maths: how a file of `fileSize` bytes splits into S3 multipart parts. Pure. */
import { DEFAULTS, MiB, S3_LIMITS } from './limits.js';

export interface PartPlan {
  fileSize: number;
  chunkSize: number;
  totalParts: number;
}

/** Number of parts; a 0-byte file is one empty part (S3 needs at least one). */
export function countParts(fileSize: number, chunkSize: number): number {
  if (fileSize === 0) return 1;
  return Math.ceil(fileSize / chunkSize);
}

export function planParts(fileSize: number, chunkSize: number): PartPlan {
  return { fileSize, chunkSize, totalParts: countParts(fileSize, chunkSize) };
}

/** Byte offset where part `partNumber` (1-based) starts. */
export function partOffset(plan: PartPlan, partNumber: number): number {
  return (partNumber - 1) * plan.chunkSize;
}

/** Exact size in bytes of part `partNumber` (1-based); only the last part may be smaller. */
export function partSize(plan: PartPlan, partNumber: number): number {
  if (partNumber < 1 || partNumber > plan.totalParts) {
    throw new RangeError(`part ${partNumber} outside 1..${plan.totalParts}`);
  }
  if (partNumber < plan.totalParts) return plan.chunkSize;
  return plan.fileSize - partOffset(plan, partNumber);
}

/** Part numbers 1..totalParts that are not in `present`, ascending. */
export function missingParts(totalParts: number, present: Iterable<number>): number[] {
  const have = new Set(present);
  const missing: number[] = [];
  for (let n = 1; n <= totalParts; n++) if (!have.has(n)) missing.push(n);
  return missing;
}

/**
 * Smallest chunk size, in whole MiB and not below `floor`, that splits `fileSize` into at most
 * S3's 10,000 parts.
 */
export function minimumChunkSize(fileSize: number, floor: number = S3_LIMITS.minPartSize): number {
  const needed = Math.ceil(fileSize / S3_LIMITS.maxParts);
  return Math.max(floor, Math.ceil(needed / MiB) * MiB);
}

/**
 * The chunk size of a file when the caller names none: `base` (5 MiB) below 128 MiB, 8 MiB from
 * there (DEFAULTS.largeFileChunkSize), raised to the smallest whole MiB that keeps the file within
 * 10,000 parts (8 MiB up to 78.1 GiB, 525 MiB at S3's 5 TiB object limit). The one rule: the
 * server plans by it, the client sizes its buffers by it.
 */
export function defaultChunkSize(fileSize: number, base: number = DEFAULTS.chunkSize): number {
  const preferred = fileSize >= DEFAULTS.largeFileSize ? Math.max(base, DEFAULTS.largeFileChunkSize) : base;
  return minimumChunkSize(fileSize, preferred);
}
