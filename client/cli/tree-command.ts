/**
 * `mpu upload DIR...`: the files below each directory (and any plain files given beside them)
 * in one run under one worker budget; one progress view; with --json one line per file. Running
 * the same command again skips what is stored (the run journal), resumes what was interrupted
 * (the per-file state), and starts the rest.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { EXIT, type MpuError } from '../errors.js';
import { pathFilter } from '../glob.js';
import { RunJournal } from '../run-state.js';
import { formatBytes, formatDuration } from '../sizes.js';
import { walkTree, type TreeSkip } from '../tree-walk.js';
import type { FileOutcome, TreeFileRef, TreeFileUploadOptions } from '../tree-upload.js';
import type { UploadResult } from '../upload.js';
import { noRunView, plainRunView, ttyRunView, type RunView } from './run-progress.js';

export interface TreeCommandOptions {
  paths: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
  followSymlinks: boolean;
  budget: number;
  /** Files adapt their count within their slots (`--concurrency auto`). */
  adaptive: boolean;
  maxMemory?: number;
  chunkSize?: number;
  stateDir?: string;
  restart: boolean;
  apiUrl: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  progress: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  signal: AbortSignal;
  /** The library's upload with the run's shared settings bound (pool, API, token, retries...). */
  uploadFile: (o: TreeFileUploadOptions) => Promise<UploadResult>;
  errorJson: (e: MpuError) => Record<string, unknown>;
  /** Set once the view exists, so Ctrl-C messages do not garble it. */
  onView?: (view: RunView) => void;
}

/** Collects the files of the run: walks directories, takes plain files as they are. */
async function collect(o: TreeCommandOptions): Promise<{ files: TreeFileRef[]; skipped: TreeSkip[] }> {
  const filter = pathFilter(o.include, o.exclude);
  const files: TreeFileRef[] = [];
  const skipped: TreeSkip[] = [];
  for (const path of o.paths) {
    const st = await stat(path);
    if (!st.isDirectory()) {
      // A file named beside directories keeps its base name; it is not filtered (it was asked for).
      files.push({ path, relativePath: basename(path), size: st.size, mtimeMs: st.mtimeMs });
      continue;
    }
    const journal = o.stateDir ? RunJournal.open(o.stateDir, o.apiUrl, resolve(path)) : undefined;
    if (journal && o.restart) journal.forget();
    for await (const e of walkTree(path, { followSymlinks: o.followSymlinks, filter })) {
      if (e.kind === 'skip') skipped.push(e);
      else files.push({ path: e.path, relativePath: e.relativePath, size: e.size, mtimeMs: e.mtimeMs, ...(journal ? { journal } : {}) });
    }
  }
  return { files, skipped };
}

const SKIP_REASON: Record<TreeSkip['reason'], string> = {
  symlink: 'a symbolic link (not followed; --follow-symlinks follows links)',
  special: 'not a regular file',
  unreadable: 'unreadable',
  loop: 'a directory already visited (symbolic link loop)',
};

export async function treeCommand(o: TreeCommandOptions): Promise<number> {
  const started = performance.now();
  const { uploadTree } = await import('../tree-upload.js');
  const { files, skipped } = await collect(o);
  const out = (obj: Record<string, unknown>) => o.stdout.write(`${JSON.stringify(obj)}\n`);
  const stderrTty = (o.stderr as NodeJS.WriteStream).isTTY === true;
  const logLine = (l: string) => o.stderr.write(`${l}\n`);
  const label = `${files.length} files`;
  const view: RunView =
    o.quiet || !o.progress || o.json ? noRunView(logLine) : stderrTty ? ttyRunView(label, o.stderr as NodeJS.WriteStream) : plainRunView(`mpu: ${label}`, logLine);
  o.onView?.(view);

  for (const s of skipped) {
    if (o.json) out({ ok: true, status: 'ignored', file: s.path, relative_path: s.relativePath, reason: s.reason });
    else if (!o.quiet) view.log(`mpu: ${s.path}: skipped, ${SKIP_REASON[s.reason]}${s.detail ? ` (${s.detail})` : ''}`);
  }

  let exitCode: number = EXIT.ok;
  const report = (r: FileOutcome) => {
    const base = { file: r.file.path, relative_path: r.file.relativePath };
    if (r.status === 'interrupted') {
      if (o.json) out({ ...base, status: 'interrupted', ...o.errorJson(r.error) });
      return;
    }
    if (r.status === 'failed') {
      if (exitCode === EXIT.ok) exitCode = r.error.exitCode;
      if (o.json) out({ ...base, status: 'failed', ...o.errorJson(r.error) });
      view.log(`mpu: ${r.file.path}: ${r.error.message}`);
      return;
    }
    if (r.status === 'skipped') {
      if (o.json) out({ ok: true, status: 'skipped', ...base, session_id: r.session_id, file_path: r.file_path, etag: r.etag, size: r.file.size });
      else if (o.verbose) view.log(`mpu: ${r.file.path}: already stored as ${r.file_path}`);
      return;
    }
    const x = r.result;
    if (o.json) {
      out({ ok: true, status: r.status, ...base, session_id: x.session_id, file_path: x.file_path, size: x.size, etag: x.etag, bytes_sent: x.bytes_sent, parts_sent: x.parts_sent, parts_total: x.parts_total, duration_ms: x.duration_ms });
    } else if (o.verbose) {
      view.log(`mpu: ${r.status} ${r.file.path} -> ${x.file_path}`);
    }
  };

  const summary = await uploadTree(files, {
    budget: o.budget,
    adaptive: o.adaptive,
    ...(o.maxMemory !== undefined ? { maxMemory: o.maxMemory } : {}),
    ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
    signal: o.signal,
    uploadFile: o.uploadFile,
    onOutcome: report,
    onProgress: (p) => view.update(p),
    onEvent: (f, e) => {
      if (!o.verbose) return;
      if (e.type === 'session') view.log(`mpu: ${f.path}: ${e.resumed ? 'resuming ' : ''}session ${e.session_id}`);
      else if (e.type === 'retry') view.log(`mpu: ${f.path}: retrying ${e.what} (${e.reason})`);
    },
  });
  view.stop();
  const bytes = files.reduce((a, f) => a + f.size, 0);
  const parts = [
    `${summary.uploaded} uploaded`,
    `${summary.resumed} resumed`,
    `${summary.skipped} skipped`,
    `${summary.failed} failed`,
    ...(summary.interruptedFiles > 0 ? [`${summary.interruptedFiles} interrupted`] : []),
    ...(summary.notStarted > 0 ? [`${summary.notStarted} not started`] : []),
    ...(skipped.length > 0 ? [`${skipped.length} ignored`] : []),
  ];
  o.stderr.write(
    `mpu: ${files.length} files (${formatBytes(bytes)}): ${parts.join(', ')}; sent ${formatBytes(summary.bytesSent)} in ${formatDuration(performance.now() - started)}\n`,
  );
  if (summary.interrupted) {
    o.stderr.write('mpu: interrupted; run the same command again to resume (stored files are skipped, interrupted ones resume)\n');
    return EXIT.interrupted;
  }
  if (summary.failed > 0 && o.stateDir) o.stderr.write('mpu: run the same command again to retry the failed files (stored files are skipped)\n');
  return exitCode;
}
