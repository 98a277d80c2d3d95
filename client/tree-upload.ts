/**
 * A directory run: many files under one worker budget. Files already stored by an earlier run
 * (the run journal, by size and mtime) are skipped; the others go through `upload` (which
 * resumes an interrupted file from the per-file state); each file's outcome is reported as it
 * ends, and the run's bytes as one progress.
 */
import { DEFAULTS } from '../contract/limits.js';
import { countParts, defaultChunkSize } from '../contract/parts.js';
import { WorkerBudget } from './budget.js';
import { InterruptedError, toMpuError, type MpuError } from './errors.js';
import type { UploadEvent, UploadOptions, UploadResult } from './upload.js';
import type { RunJournal } from './run-state.js';

export interface TreeFileRef {
  /** Path to read (as given on the command line, joined with the relative path). */
  path: string;
  /** `/`-separated; the object key's tail, below the session id. */
  relativePath: string;
  size: number;
  mtimeMs: number;
  /** The journal of the root this file was found under (undefined without a state directory). */
  journal?: RunJournal;
}

export type FileOutcome =
  | { status: 'uploaded' | 'resumed'; file: TreeFileRef; result: UploadResult }
  | { status: 'skipped'; file: TreeFileRef; session_id: string; file_path: string; etag: string }
  | { status: 'failed'; file: TreeFileRef; error: MpuError }
  /** Stopped by the run's signal: its session is kept and the next run resumes it. */
  | { status: 'interrupted'; file: TreeFileRef; error: MpuError };

export type TreeFileUploadOptions = Pick<UploadOptions, 'file' | 'filename' | 'concurrency' | 'maxConcurrency' | 'maxMemory' | 'chunkSize' | 'signal' | 'onEvent' | 'onProgress'>;

export interface RunProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface TreeRunOptions {
  /** Part uploads in flight across the run (treeBudget()). */
  budget: number;
  /**
   * true: each file adapts its count within the slots it holds (`concurrency: 'auto'`,
   * `maxConcurrency`: its slots); false: it uses all of them.
   */
  adaptive?: boolean;
  /**
   * Part buffer bytes of the run (adaptive default: DEFAULTS.maxMemory; fixed without it: a part
   * per slot). Each file gets its slots' share, so its parts in flight and read ahead together
   * stay within it.
   */
  maxMemory?: number;
  chunkSize?: number;
  signal?: AbortSignal;
  /** Per file: the upload call (library `upload`, or a fake in tests). */
  uploadFile: (opts: TreeFileUploadOptions) => Promise<UploadResult>;
  onOutcome?: (o: FileOutcome) => void;
  onEvent?: (file: TreeFileRef, e: UploadEvent) => void;
  onProgress?: (p: RunProgress) => void;
}

export interface TreeSummary {
  uploaded: number;
  resumed: number;
  skipped: number;
  failed: number;
  /** Files stopped part-way by the run's signal (resumable). */
  interruptedFiles: number;
  /** Files not begun because the run was stopped. */
  notStarted: number;
  bytesSent: number;
  interrupted: boolean;
}

export async function uploadTree(files: readonly TreeFileRef[], o: TreeRunOptions): Promise<TreeSummary> {
  const summary: TreeSummary = { uploaded: 0, resumed: 0, skipped: 0, failed: 0, interruptedFiles: 0, notStarted: 0, bytesSent: 0, interrupted: false };
  const budget = new WorkerBudget(o.budget);
  const bytesTotal = files.reduce((a, f) => a + f.size, 0);
  const perFile = new Map<TreeFileRef, number>();
  let bytesDone = 0;
  let filesDone = 0;
  const progress = () => o.onProgress?.({ bytesDone, bytesTotal, filesDone, filesTotal: files.length });
  const setBytes = (f: TreeFileRef, bytes: number) => {
    bytesDone += bytes - (perFile.get(f) ?? 0);
    perFile.set(f, bytes);
    progress();
  };
  const finish = (outcome: FileOutcome) => {
    filesDone++;
    if (outcome.status === 'failed' || outcome.status === 'interrupted') progress();
    else setBytes(outcome.file, outcome.file.size);
    summary[outcome.status === 'interrupted' ? 'interruptedFiles' : outcome.status]++;
    if (outcome.status === 'uploaded' || outcome.status === 'resumed') summary.bytesSent += outcome.result.bytes_sent;
    o.onOutcome?.(outcome);
  };

  const running = new Set<Promise<void>>();
  const runMemory = o.maxMemory ?? (o.adaptive ? DEFAULTS.maxMemory : undefined);
  for (const file of files) {
    if (o.signal?.aborted) break;
    const done = file.journal?.completed(file.relativePath, file.size, file.mtimeMs);
    if (done) {
      finish({ status: 'skipped', file, session_id: done.session_id, file_path: done.file_path, etag: done.etag });
      continue;
    }
    const chunk = o.chunkSize ?? defaultChunkSize(file.size);
    const slots = Math.min(countParts(file.size, chunk), o.budget);
    const give = await budget.take(slots);
    if (o.signal?.aborted) {
      give();
      break;
    }
    const task = (async () => {
      try {
        const result = await o.uploadFile({
          file: file.path,
          filename: file.relativePath,
          ...(o.adaptive ? { concurrency: 'auto' as const, maxConcurrency: slots } : { concurrency: slots }),
          maxMemory: runMemory === undefined ? slots * chunk : Math.max(1, Math.floor((runMemory * slots) / o.budget)),
          ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
          onEvent: (e) => o.onEvent?.(file, e),
          onProgress: (p) => setBytes(file, p.bytesDone),
        });
        file.journal?.record({
          rel: file.relativePath,
          size: file.size,
          mtime_ms: file.mtimeMs,
          session_id: result.session_id,
          file_path: result.file_path,
          etag: result.etag,
          at: new Date().toISOString(),
        });
        finish({ status: result.resumed ? 'resumed' : 'uploaded', file, result });
      } catch (err) {
        const error = toMpuError(err);
        if (error instanceof InterruptedError) {
          summary.interrupted = true;
          finish({ status: 'interrupted', file, error });
        } else {
          finish({ status: 'failed', file, error });
        }
      } finally {
        give();
      }
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
  }
  await Promise.all(running);
  if (o.signal?.aborted) summary.interrupted = true;
  summary.notStarted = files.length - filesDone;
  return summary;
}
