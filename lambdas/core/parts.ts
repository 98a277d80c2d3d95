/** Part maths: how a file of `fileSize` bytes splits into S3 multipart parts. Pure. */
import { S3_LIMITS } from './limits.js';

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

/** Smallest chunk size that keeps `fileSize` within S3's part count, rounded up to whole MiB. */
export function minimumChunkSize(fileSize: number): number {
  const needed = Math.ceil(fileSize / S3_LIMITS.maxParts);
  const mib = 1024 * 1024;
  return Math.max(S3_LIMITS.minPartSize, Math.ceil(needed / mib) * mib);
}
