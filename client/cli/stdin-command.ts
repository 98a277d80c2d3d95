/**
 * `mpu upload - --name NAME`: standard input of unknown length as one object. The part size is
 * chosen so that --expected-size fits S3's 10,000 parts; a pipe cannot be resumed once this
 * process ends, so any failure or interruption aborts the session (nothing is left in storage).
 */
import { EXIT, InterruptedError, toMpuError, type MpuError } from '../errors.js';
import { formatBytes, formatDuration, formatRate } from '../sizes.js';
import type { ReadableUploadOptions } from '../stream-node.js';

export interface StdinCommandOptions extends Omit<ReadableUploadOptions, 'onSession' | 'onPart' | 'onProgress'> {
  input: AsyncIterable<Uint8Array>;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  progress: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  errorJson: (e: MpuError) => Record<string, unknown>;
}

export async function stdinCommand(o: StdinCommandOptions): Promise<number> {
  const { uploadReadable, streamChunkSize } = await import('../stream-node.js');
  const info = (line: string) => {
    if (!o.quiet) o.stderr.write(`mpu: ${line}\n`);
  };
  let lastReport = 0;
  const started = performance.now();
  const { input, json, quiet, verbose, progress, stdout: _stdout, stderr: _stderr, errorJson, ...rest } = o;
  try {
    const r = await uploadReadable(input, {
      ...rest,
      chunkSize: rest.chunkSize ?? streamChunkSize(rest.expectedSize),
      onSession: (s) =>
        info(
          `session ${s.session_id} for standard input as ${o.name}, parts of ${formatBytes(s.chunk_size)} (at most ${formatBytes(s.max_size)}); ` +
            'a pipe cannot be resumed: if this run fails, the session is aborted',
        ),
      onPart: (p) => {
        if (verbose) info(`part ${p.part_number} stored (${formatBytes(p.size)}, attempt ${p.attempts})`);
      },
      onRetry: (what, attempt, delayMs, reason) => {
        if (verbose) info(`retrying ${what} in ${delayMs} ms (attempt ${attempt} failed: ${reason})`);
      },
      onProgress: (p) => {
        if (quiet || !progress || json) return;
        const now = performance.now();
        if (now - lastReport < 2000) return;
        lastReport = now;
        info(`read ${formatBytes(p.bytesRead)}, stored ${p.partsStored} parts (${formatBytes(p.bytesStored)}) at ${formatRate(p.bytesStored, now - started)}`);
      },
    });
    if (json) o.stdout.write(`${JSON.stringify({ ok: true, file: '-', ...r })}\n`);
    else
      o.stdout.write(
        quiet
          ? `- -> ${r.file_path}\n`
          : `uploaded standard input -> ${r.file_path}\n  ${formatBytes(r.size)} in ${r.parts} part${r.parts === 1 ? '' : 's'} in ${formatDuration(r.duration_ms)} (${formatRate(r.size, r.duration_ms)})\n  etag ${r.etag} (verified against the bytes read)\n`,
      );
    return EXIT.ok;
  } catch (err) {
    const e = toMpuError(err);
    const aborted = e.sessionId ? `; session ${e.sessionId} aborted (a pipe cannot be resumed)` : '';
    o.stderr.write(`mpu: standard input: ${e instanceof InterruptedError ? 'interrupted' : e.message}${aborted}\n`);
    if (json) o.stdout.write(`${JSON.stringify({ file: '-', ...errorJson(e) })}\n`);
    return e.exitCode;
  }
}
