/**
 * A picked file's identity across page reloads: a File object does not survive a reload, so the
 * same file picked again is recognised by its name, size, lastModified, and the SHA-256 of
 * sampled 64 KiB blocks (start, end, and evenly spaced between: cheap for any size, and a file
 * rewritten in place with the same size and mtime is still caught in most cases; the stored
 * parts' ETags are checked against the file's own part MD5s before anything is resumed anyway).
 */
export interface FileFingerprint {
  name: string;
  size: number;
  last_modified: number;
  /** Hex SHA-256 of the sampled blocks. */
  sample_sha256: string;
}

const SAMPLE_BLOCK = 64 * 1024;
const SAMPLES = 8;

/** Offsets of the sampled blocks: pure, so the same file always gives the same blocks. */
export function sampleOffsets(size: number, block = SAMPLE_BLOCK, samples = SAMPLES): number[] {
  if (size <= block * samples) return [0];
  const last = size - block;
  return Array.from({ length: samples }, (_, i) => Math.round((last * i) / (samples - 1)));
}

export async function fingerprintFile(file: File): Promise<FileFingerprint> {
  const offsets = sampleOffsets(file.size);
  const len = offsets.length === 1 ? file.size : SAMPLE_BLOCK;
  const parts = await Promise.all(offsets.map((o) => file.slice(o, o + len).arrayBuffer()));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    all.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  const sha = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return { name: file.name, size: file.size, last_modified: file.lastModified, sample_sha256: Array.from(sha, (b) => b.toString(16).padStart(2, '0')).join('') };
}

/** The key a session is remembered under: the API and the file's fingerprint. */
export function fingerprintKey(apiUrl: string, f: FileFingerprint): string {
  return JSON.stringify([apiUrl.replace(/\/+$/, ''), f.name, f.size, f.last_modified, f.sample_sha256]);
}
