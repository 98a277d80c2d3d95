/**
 * Memory of a directory run: which files of a tree are already stored, so running the same
 * `mpu upload DIR` again skips them. One append-only journal per (API, absolute root) in the state
 * directory's `runs/` folder, one JSON line per completed file. Appending a line is one write
 * (no temp file and rename per file, which 10,000 small files would pay for); a line cut short by
 * a killed process is ignored, so the worst case is one file uploaded again.
 *
 * A file counts as done only while its fingerprint (size, mtime) is unchanged: an edited file is
 * uploaded again, as a new session. Interrupted files are not here: the per-file StateStore
 * (state.ts) resumes those.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface DoneEntry {
  /** `/`-separated path below the root. */
  rel: string;
  size: number;
  mtime_ms: number;
  session_id: string;
  file_path: string;
  etag: string;
  at: string;
}

export class RunJournal {
  private readonly done = new Map<string, DoneEntry>();
  private dirMade = false;

  private constructor(readonly file: string) {}

  /** The journal of `root` (absolute) on `apiUrl`, with what earlier runs completed. */
  static open(stateDir: string, apiUrl: string, root: string): RunJournal {
    const key = createHash('sha256').update(`${apiUrl.replace(/\/+$/, '')}\0${root}`).digest('hex').slice(0, 32);
    const j = new RunJournal(join(stateDir, 'runs', `${key}.jsonl`));
    let text = '';
    try {
      text = readFileSync(j.file, 'utf8');
    } catch {
      return j;
    }
    for (const line of text.split('\n')) {
      const e = parseLine(line);
      if (e) j.done.set(e.rel, e);
    }
    return j;
  }

  /** The earlier upload of this file, if it is unchanged since. */
  completed(rel: string, size: number, mtimeMs: number): DoneEntry | undefined {
    const e = this.done.get(rel);
    return e && e.size === size && e.mtime_ms === mtimeMs ? e : undefined;
  }

  record(entry: DoneEntry): void {
    if (!this.dirMade) {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      this.dirMade = true;
    }
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    this.done.set(entry.rel, entry);
  }

  /** Forgets the whole run (--restart): every file is uploaded again. */
  forget(): void {
    rmSync(this.file, { force: true });
    this.done.clear();
  }
}

function parseLine(line: string): DoneEntry | undefined {
  if (line.trim() === '') return undefined;
  try {
    const e = JSON.parse(line) as Partial<DoneEntry>;
    if (typeof e.rel !== 'string' || typeof e.size !== 'number' || typeof e.mtime_ms !== 'number' || typeof e.session_id !== 'string' || typeof e.file_path !== 'string') {
      return undefined;
    }
    return e as DoneEntry;
  } catch {
    return undefined;
  }
}
