/**
 * Local memory of unfinished uploads, so `mpu upload FILE` after an interruption resumes by
 * itself. One small JSON file per (API, absolute path) in the state directory: writes are
 * atomic (temp file + rename) and two uploads of different files never touch the same file.
 *
 * A file is recognised by a fingerprint: size, mtime and a SHA-256 over a few sampled 64 KiB
 * blocks (start, quarters, end). A changed fingerprint means the stored parts may not be this
 * file's bytes; resuming then needs an explicit decision (--restart). Tokens are never stored.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export interface Fingerprint {
  size: number;
  mtime_ms: number;
  sample_sha256: string;
}

export interface StateEntry extends Fingerprint {
  version: 1;
  session_id: string;
  api_url: string;
  /** Absolute path of the file. */
  path: string;
  chunk_size: number;
  total_parts: number;
  created_at: string;
  updated_at: string;
  /** When the server will reclaim the session. */
  expires_at?: string;
}

const SAMPLE = 64 * 1024;

export async function fingerprint(path: string): Promise<Fingerprint> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const size = st.size;
    const h = createHash('sha256').update(`${size}\n`);
    const buf = Buffer.allocUnsafe(SAMPLE);
    const offsets = size <= 5 * SAMPLE ? [0] : [0, Math.floor(size / 4), Math.floor(size / 2), Math.floor((3 * size) / 4), size - SAMPLE];
    for (const off of offsets) {
      const len = size <= 5 * SAMPLE ? size : SAMPLE;
      // A small file is hashed whole, in SAMPLE-sized reads.
      for (let done = 0; done < len; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(SAMPLE, len - done), off + done);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        done += bytesRead;
      }
    }
    return { size, mtime_ms: st.mtimeMs, sample_sha256: h.digest('hex') };
  } finally {
    await fh.close();
  }
}

export function sameFingerprint(a: Fingerprint, b: Fingerprint): boolean {
  return a.size === b.size && a.mtime_ms === b.mtime_ms && a.sample_sha256 === b.sample_sha256;
}

/** What differs, for the refusal message. */
export function fingerprintChange(before: Fingerprint, now: Fingerprint): string {
  if (before.size !== now.size) return `size ${before.size} -> ${now.size} bytes`;
  if (before.sample_sha256 !== now.sample_sha256) return 'content changed';
  return `modified at ${new Date(now.mtime_ms).toISOString()}`;
}

export class StateStore {
  constructor(readonly dir: string) {}

  private fileFor(apiUrl: string, absPath: string): string {
    const key = createHash('sha256').update(`${normalizeApi(apiUrl)}\0${absPath}`).digest('hex').slice(0, 32);
    return join(this.dir, `${key}.json`);
  }

  get(apiUrl: string, absPath: string): StateEntry | undefined {
    return readEntry(this.fileFor(apiUrl, absPath));
  }

  put(entry: StateEntry): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileFor(entry.api_url, entry.path);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entry, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  delete(apiUrl: string, absPath: string): void {
    rmSync(this.fileFor(apiUrl, absPath), { force: true });
  }

  /** Every remembered upload, oldest first. */
  list(): StateEntry[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => readEntry(join(this.dir, n)))
      .filter((e): e is StateEntry => e !== undefined)
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** Forgets the entry of a session (e.g. after `mpu abort`). */
  deleteSession(sessionId: string): boolean {
    let found = false;
    for (const e of this.list()) {
      if (e.session_id === sessionId) {
        this.delete(e.api_url, e.path);
        found = true;
      }
    }
    return found;
  }
}

function normalizeApi(url: string): string {
  return url.replace(/\/+$/, '');
}

function readEntry(file: string): StateEntry | undefined {
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Partial<StateEntry>;
    // Unknown versions and damaged files are ignored, not fatal: the worst case is a fresh upload.
    if (e.version !== 1 || typeof e.session_id !== 'string' || typeof e.path !== 'string' || typeof e.api_url !== 'string') return undefined;
    return e as StateEntry;
  } catch {
    return undefined;
  }
}
