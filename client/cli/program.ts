/**
 * The `mpu` command line: argument parsing and output. All upload logic is in the library
 * (client/index.ts); this maps flags to options, events to lines, errors to exit codes.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { StatusResponse } from '../../contract/api.js';
import type { UploadEvent, UploadResult } from '../index.js';
import { resolveApi, stateDirPath, type Env } from '../config.js';
import { StateStore } from '../state.js';
import { EXIT, InterruptedError, toMpuError, UsageError, type MpuError } from '../errors.js';
import { formatBytes, formatDuration, formatRate, parseSize } from '../sizes.js';
import type { ProgressView, RunTotal } from './progress-view.js';
import { DEFAULTS } from '../../contract/limits.js';
import type { ConcurrencySetting } from '../engine/worker-count.js';

// Loaded when a command needs them: `mpu --help`, `mpu list` and usage errors never load node:http
// or cli-progress (in the bundle they are separate chunks; docs/benchmarks.md has the numbers).
const library = () => import('../index.js');
const views = () => import('./progress-view.js');

export interface CliIo {
  stdout: NodeJS.WritableStream;
  /** `mpu upload -` reads it (process.stdin in real use). */
  stdin?: AsyncIterable<Uint8Array>;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  env: Env;
  cwd: string;
  /** Ctrl-C handling: the CLI registers its handler here (process.on in real use). */
  onSignal?: (handler: () => void) => () => void;
  /** Immediate exit on a second Ctrl-C. */
  exit?: (code: number) => never;
  /** The package's version, for `mpu --version` (the build puts client/package.json's in). */
  version?: string;
}

export interface GlobalFlags {
  api?: string;
  token?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export interface UploadFlags extends GlobalFlags {
  chunkSize?: number;
  concurrency: ConcurrencySetting;
  maxMemory?: number;
  resume?: string;
  restart?: boolean;
  limitRate?: number;
  retries?: number;
  stallTimeout?: number;
  contentType?: string;
  progress: boolean;
  /** false with --no-state. */
  state: boolean;
  stateDir?: string;
  /** Directories: globs over the relative path; links followed or not. */
  include: string[];
  exclude: string[];
  followSymlinks?: boolean;
  /** `-` (standard input): the object's name, and the size the part size must fit. */
  name?: string;
  expectedSize?: number;
}

interface ListFlags {
  json?: boolean;
  stateDir?: string;
}

const sizeArg = (v: string): number => {
  try {
    return parseSize(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const intArg =
  (min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };

const concurrencyArg = (v: string): ConcurrencySetting => (v.trim() === 'auto' ? 'auto' : intArg(1, DEFAULTS.maxConcurrency)(v));

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    failed (see message)
  2    usage error, or no API configured
  3    the file does not match the session (changed since, or while uploading)
  4    the session cannot be used (unknown, aborted, expired, completed with other content)
  5    API or storage unreachable or overloaded after all retries
  6    the API refused the credentials
  7    the stored object's ETag does not match the file
  8    storage refused the parts (quota full, access denied by policy, unknown key); the session is kept
  130  interrupted (Ctrl-C); the session is kept, resume it with --resume`;

/** Runs the CLI; resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;

  const program = new Command('mpu')
    .description('Fast, resumable multipart uploads into S3 through the upload API.')
    .showHelpAfterError('(mpu --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  if (io.version) program.version(io.version, '-V, --version', 'print the version of mpu');

  const common = (c: Command) =>
    c
      .option('--api <url>', 'API base URL (default: $MPU_API_URL, then .local/endpoints.json)')
      .option('--token <token>', 'API bearer token (default: $MPU_TOKEN, then the config file)')
      .option('--json', 'print one JSON object per result on stdout')
      .option('-q, --quiet', 'print only results and errors')
      .option('-v, --verbose', 'print every part, retry and URL refresh');

  common(
    program
      .command('upload')
      .description('upload files, directories or standard input (or resume an interrupted upload)')
      .argument('<paths...>', 'files, directories (every regular file below, kept as relative paths), or - for standard input')
      .addOption(new Option('--chunk-size <size>', 'part size, e.g. 8MiB, 8MB, 8388608 (default: 5MiB, 8MiB from 128MiB up, raised to the smallest whole MiB that keeps the file within 10,000 parts)').argParser(sizeArg))
      .addOption(
        new Option('-c, --concurrency <n|auto>', `parts in flight at once: auto adapts to the link (starts at ${DEFAULTS.minInitialConcurrency}-${DEFAULTS.initialConcurrency} by the round trip to the API, grows while it pays), a number from 1 to ${DEFAULTS.maxConcurrency} fixes it`)
          .argParser(concurrencyArg)
          .default('auto'),
      )
      .addOption(new Option('--max-memory <size>', 'part buffers at most, e.g. 512MiB (default 256MiB): auto never holds more parts than fit; caps a fixed --concurrency too when given').argParser(sizeArg))
      .option('--resume <session_id>', 'continue this session: send only the parts storage lacks')
      .option('--restart', 'start a new session even if an interrupted one exists for the file')
      .addOption(new Option('--limit-rate <size>', 'upper bound on upload speed per second, e.g. 20MiB').argParser(sizeArg))
      .addOption(new Option('--retries <n>', 'attempts per request for transient failures').argParser(intArg(1, 100)))
      .addOption(new Option('--stall-timeout <seconds>', 'retry a request without progress for this long').argParser(intArg(1, 3600)))
      .option('--content-type <type>', 'Content-Type of the stored object')
      .option('--no-progress', 'no progress display')
      .option('--state-dir <dir>', 'where interrupted uploads are remembered (default: $MPU_STATE_DIR, ~/.local/state/mpu)')
      .option('--no-state', 'do not remember or automatically resume uploads')
      .addOption(new Option('--include <glob>', 'directories: upload only files matching (repeatable; no "/" in the glob: matches the base name)').argParser(collect).default([]))
      .addOption(new Option('--exclude <glob>', 'directories: skip files matching (repeatable; wins over --include)').argParser(collect).default([]))
      .option('--follow-symlinks', 'directories: follow symbolic links (default: links are skipped and reported)')
      .option('--name <name>', 'with -: the object name for standard input')
      .addOption(new Option('--expected-size <size>', 'with -: about how big the input is; the part size fits it in 10,000 parts (default 100GiB)').argParser(sizeArg)),
  ).action(async (paths: string[], flags: UploadFlags) => {
    exitCode = await dispatchUpload(paths, flags, io);
  });

  common(program.command('status').description('show a session as storage sees it').argument('<session_id>')).action(
    async (id: string, flags: GlobalFlags) => {
      exitCode = await guard(io, flags, async () => {
        const api = resolveApi(flags, io.env, io.cwd);
        const { getStatus } = await library();
        const s = await getStatus(id, { apiUrl: api.apiUrl, token: api.token });
        io.stdout.write(flags.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
      });
    },
  );

  common(
    program
      .command('abort')
      .description('abort a session and delete its stored parts')
      .argument('<session_id>')
      .option('--state-dir <dir>', 'state directory to forget the session in'),
  ).action(
    async (id: string, flags: GlobalFlags & { stateDir?: string }) => {
      exitCode = await guard(io, flags, async () => {
        const api = resolveApi(flags, io.env, io.cwd);
        const store = new StateStore(flags.stateDir ?? stateDirPath(io.env));
        try {
          const { abortSession } = await library();
          const r = await abortSession(id, { apiUrl: api.apiUrl, token: api.token });
          io.stdout.write(flags.json ? `${JSON.stringify(r)}\n` : `aborted session ${r.session_id}\n`);
        } finally {
          // Whatever the answer (aborted now, already aborted, unknown), never auto-resume it again.
          store.deleteSession(id);
        }
      });
    },
  );

  program
    .command('list')
    .description('list interrupted uploads remembered on this machine')
    .option('--json', 'one JSON object per upload')
    .option('--state-dir <dir>', 'state directory (default: $MPU_STATE_DIR, ~/.local/state/mpu)')
    .action((flags: ListFlags) => {
      const entries = new StateStore(flags.stateDir ?? stateDirPath(io.env)).list();
      if (flags.json) {
        for (const e of entries) io.stdout.write(`${JSON.stringify(e)}\n`);
      } else if (entries.length === 0) {
        io.stdout.write('no interrupted uploads\n');
      } else {
        for (const e of entries) {
          io.stdout.write(
            `${e.session_id}  ${e.path}  ${formatBytes(e.size)} in ${e.total_parts} parts  started ${e.created_at}` +
              `${e.expires_at ? `  expires ${e.expires_at}` : ''}  ${e.api_url}\n`,
          );
        }
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are exits with 0; everything else commander reports is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const e = toMpuError(err);
    io.stderr.write(`mpu: ${e.message}\n`);
    return e.exitCode;
  }
  return exitCode;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `mpu upload`: standard input, a directory run, or the files one after another. */
async function dispatchUpload(paths: string[], flags: UploadFlags, io: CliIo): Promise<number> {
  const usage = (msg: string) => {
    io.stderr.write(`mpu: ${msg}\n`);
    return EXIT.usage;
  };
  if (paths.includes('-')) {
    if (paths.length !== 1) return usage('- (standard input) cannot be combined with other paths');
    if (!flags.name) return usage('uploading standard input needs --name NAME (the object name)');
    if (flags.resume) return usage('standard input cannot be resumed (--resume)');
    return stdinUpload(flags, io);
  }
  if (flags.name || flags.expectedSize !== undefined) return usage('--name and --expected-size apply to - (standard input) only');
  const kinds = await Promise.all(paths.map((p) => stat(p).then((s) => s.isDirectory(), () => false)));
  if (kinds.some(Boolean)) {
    if (flags.resume) return usage('--resume takes exactly one file, not a directory');
    return directoryUpload(paths, flags, io);
  }
  if (flags.include.length > 0 || flags.exclude.length > 0 || flags.followSymlinks) {
    return usage('--include, --exclude and --follow-symlinks apply to directories');
  }
  return uploadCommand(paths, flags, io);
}

/** Ctrl-C for runs that stop as a whole: the first stops new work, the second quits now. */
function interruptible(io: CliIo, say: (line: string) => void): { signal: AbortSignal; off: () => void } {
  const stop = new AbortController();
  let interrupts = 0;
  const off = io.onSignal?.(() => {
    interrupts++;
    if (interrupts === 1) {
      say('mpu: stopping: finishing work in flight (Ctrl-C again to quit now)');
      stop.abort();
      return;
    }
    (io.exit ?? process.exit)(EXIT.interrupted);
  });
  return { signal: stop.signal, off: off ?? (() => undefined) };
}

/** The API to call, or the exit code of the usage error it printed (no API configured). */
function apiOrExitCode(flags: UploadFlags, io: CliIo): ReturnType<typeof resolveApi> | number {
  try {
    return resolveApi(flags, io.env, io.cwd);
  } catch (err) {
    const e = toMpuError(err);
    io.stderr.write(`mpu: ${e.message}\n`);
    return e.exitCode;
  }
}

/** How the stdin and directory commands report: the output flags and the process's streams. */
function outputOptions(flags: UploadFlags, io: CliIo) {
  return {
    json: flags.json === true,
    quiet: flags.quiet === true,
    verbose: flags.verbose === true,
    progress: flags.progress,
    stdout: io.stdout,
    stderr: io.stderr,
  };
}

async function stdinUpload(flags: UploadFlags, io: CliIo): Promise<number> {
  const api = apiOrExitCode(flags, io);
  if (typeof api === 'number') return api;
  const { stdinCommand } = await import('./stdin-command.js');
  const { signal, off } = interruptible(io, (l) => io.stderr.write(`${l}\n`));
  try {
    return await stdinCommand({
      input: io.stdin ?? process.stdin,
      name: flags.name!,
      apiUrl: api.apiUrl,
      ...(api.token ? { token: api.token } : {}),
      concurrency: flags.concurrency,
      ...(flags.maxMemory !== undefined ? { maxMemory: flags.maxMemory } : {}),
      ...(flags.chunkSize !== undefined ? { chunkSize: flags.chunkSize } : {}),
      ...(flags.expectedSize !== undefined ? { expectedSize: flags.expectedSize } : {}),
      ...(flags.contentType ? { contentType: flags.contentType } : {}),
      ...(flags.retries ? { retry: { maxAttempts: flags.retries } } : {}),
      ...(flags.stallTimeout ? { stallTimeoutMs: flags.stallTimeout * 1000 } : {}),
      signal,
      ...outputOptions(flags, io),
      errorJson,
    });
  } finally {
    off();
  }
}

async function directoryUpload(paths: string[], flags: UploadFlags, io: CliIo): Promise<number> {
  const api = apiOrExitCode(flags, io);
  if (typeof api === 'number') return api;
  const stateDir = flags.state ? (flags.stateDir ?? stateDirPath(io.env)) : undefined;
  if (flags.restart && !stateDir) {
    io.stderr.write('mpu: --restart needs the state directory (drop --no-state)\n');
    return EXIT.usage;
  }
  const [{ upload, createPool }, { treeCommand }, { treeBudget }] = await Promise.all([library(), import('./tree-command.js'), import('../budget.js')]);
  let say = (l: string): void => void io.stderr.write(`${l}\n`);
  const { signal, off } = interruptible(io, (l) => say(l));
  const budget = treeBudget(flags.concurrency, flags.maxMemory, flags.chunkSize ?? DEFAULTS.chunkSize);
  // One keep-alive pool for the run: as many connections as parts may be in flight, and the API's.
  const pool = createPool({ connections: budget + 2 });
  try {
    return await treeCommand({
      paths,
      include: flags.include,
      exclude: flags.exclude,
      followSymlinks: flags.followSymlinks === true,
      budget,
      adaptive: flags.concurrency === 'auto',
      ...(flags.maxMemory !== undefined ? { maxMemory: flags.maxMemory } : {}),
      ...(flags.chunkSize !== undefined ? { chunkSize: flags.chunkSize } : {}),
      ...(stateDir ? { stateDir } : {}),
      restart: flags.restart === true,
      apiUrl: api.apiUrl,
      ...outputOptions(flags, io),
      signal,
      errorJson,
      onView: (view) => {
        say = (l) => view.log(l);
      },
      uploadFile: (f) =>
        upload({
          ...f,
          pool,
          apiUrl: api.apiUrl,
          token: api.token,
          contentType: flags.contentType,
          ...(flags.retries ? { retry: { maxAttempts: flags.retries } } : {}),
          ...(flags.stallTimeout ? { stallTimeoutMs: flags.stallTimeout * 1000 } : {}),
          ...(flags.limitRate ? { rateLimit: flags.limitRate } : {}),
          ...(stateDir ? { stateDir, restart: flags.restart === true } : {}),
        }),
    });
  } finally {
    off();
    await pool.close();
  }
}

/** Runs a simple command; prints a failure as one line (and a JSON object with --json). */
async function guard(io: CliIo, flags: GlobalFlags, fn: () => Promise<void>): Promise<number> {
  try {
    await fn();
    return EXIT.ok;
  } catch (err) {
    const e = toMpuError(err);
    io.stderr.write(`mpu: ${e.message}\n`);
    if (flags.json) io.stdout.write(`${JSON.stringify(errorJson(e))}\n`);
    return e.exitCode;
  }
}

async function uploadCommand(files: string[], flags: UploadFlags, io: CliIo): Promise<number> {
  const [{ upload, createPool, connectionsFor }, { noProgress, plainProgress, ttyProgress }] = await Promise.all([library(), views()]);
  const info = (line: string) => {
    if (!flags.quiet) view.log(`mpu: ${line}`);
  };
  let view: ProgressView = noProgress((l) => io.stderr.write(`${l}\n`));
  if (flags.resume && files.length !== 1) {
    io.stderr.write('mpu: --resume takes exactly one file\n');
    return EXIT.usage;
  }
  const api = apiOrExitCode(flags, io);
  if (typeof api === 'number') return api;
  if (flags.verbose) info(`API ${api.apiUrl} (from ${api.source})`);
  const stateDir = flags.state ? (flags.stateDir ?? stateDirPath(io.env)) : undefined;
  if (flags.restart && !stateDir) {
    io.stderr.write('mpu: --restart needs the state directory (drop --no-state)\n');
    return EXIT.usage;
  }
  const resumeHint = (file: string, sessionId: string) =>
    stateDir && !flags.resume ? `run the same command again, or ${resumeCommand(file, sessionId)}` : resumeCommand(file, sessionId);

  // Ctrl-C: the first stops new parts and lets the ones in flight finish; the second quits now.
  const stop = new AbortController();
  let current: { file: string; sessionId?: string } | undefined;
  let interrupts = 0;
  const offSignal = io.onSignal?.(() => {
    interrupts++;
    if (interrupts === 1) {
      view.log('mpu: stopping: finishing parts in flight (Ctrl-C again to quit now)');
      stop.abort();
      return;
    }
    view.stop();
    if (current?.sessionId) io.stderr.write(`mpu: interrupted; to resume: ${resumeHint(current.file, current.sessionId)}\n`);
    (io.exit ?? process.exit)(EXIT.interrupted);
  });

  let exitCode: number = EXIT.ok;
  // One keep-alive pool for every file of the run, with room for the most parts in flight.
  const pool = createPool({ connections: connectionsFor({ concurrency: flags.concurrency }) });
  // Sizes up front, for the run's total progress (a missing file counts 0 and fails on its turn).
  const sizes = files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  });
  const bytesAll = sizes.reduce((a, b) => a + b, 0);
  const tally = { ok: 0, failed: 0, bytes: 0, started: performance.now() };
  try {
    for (const [i, file] of files.entries()) {
      if (stop.signal.aborted) break;
      current = { file };
      const total: RunTotal = { index: i + 1, count: files.length, bytesBefore: sizes.slice(0, i).reduce((a, b) => a + b, 0), bytesAll };
      const stderrTty = (io.stderr as NodeJS.WriteStream).isTTY === true;
      view =
        flags.quiet || !flags.progress || flags.json
          ? noProgress((l) => io.stderr.write(`${l}\n`))
          : stderrTty
            ? ttyProgress(file, io.stderr as NodeJS.WriteStream, total)
            : plainProgress(`mpu: ${file}`, (l) => io.stderr.write(`${l}\n`), 2000, total);
      const onEvent = (e: UploadEvent) => {
        if (e.type === 'session') {
          current!.sessionId = e.session_id;
          // Printed first thing, so even a killed run can be resumed.
          const what = e.resumed
            ? `resuming session ${e.session_id}: ${e.stored_parts}/${e.total_parts} parts stored`
            : `session ${e.session_id}`;
          info(`${file}: ${what} (${formatBytes(e.file_size)}, ${plural(e.total_parts, 'part')} of ${formatBytes(e.chunk_size)})`);
          if (!flags.quiet) view.log(`mpu: if interrupted, resume: ${resumeHint(file, e.session_id)}`);
        } else if (e.type === 'auto_resume') {
          info(`${file}: resuming its interrupted upload (session ${e.session_id}, started ${e.created_at}); --restart starts over`);
        } else if (e.type === 'restart') {
          info(`${file}: starting over; session ${e.previous_session_id} is left to expire (mpu abort ${e.previous_session_id} frees its parts now)`);
        } else if (e.type === 'session_gone') {
          info(`${file}: session ${e.session_id} cannot be resumed (${e.reason}); starting a new upload`);
        } else if (e.type === 'verified') {
          info(`verified ${e.parts} stored parts (${formatBytes(e.bytes)}) against the file in ${formatDuration(e.ms)}`);
        } else if (flags.verbose) {
          if (e.type === 'part') info(`part ${e.part_number} stored (${formatBytes(e.size)}, ${e.ms} ms, attempt ${e.attempts})`);
          else if (e.type === 'retry') info(`retrying ${e.what} in ${e.delay_ms} ms (attempt ${e.attempt} failed: ${e.reason})`);
          else if (e.type === 'refresh') info(`fresh URL for part ${e.part_number} (${e.reason})`);
          else if (e.type === 'completing') info(`completing (${e.parts} parts)`);
          else if (e.type === 'concurrency') info(`parts in flight ${e.from} -> ${e.to} (${e.reason}, ${e.mibps.toFixed(1)} MiB/s)`);
        }
        if (e.type === 'stopping' && flags.verbose) info('no new parts will be started');
      };
      try {
        const r = await upload({
          file,
          pool,
          apiUrl: api.apiUrl,
          token: api.token,
          chunkSize: flags.chunkSize,
          concurrency: flags.concurrency,
          ...(flags.maxMemory !== undefined ? { maxMemory: flags.maxMemory } : {}),
          resumeSessionId: flags.resume,
          contentType: flags.contentType,
          signal: stop.signal,
          onEvent,
          onProgress: (p) => view.update(p),
          ...(flags.retries ? { retry: { maxAttempts: flags.retries } } : {}),
          ...(flags.stallTimeout ? { stallTimeoutMs: flags.stallTimeout * 1000 } : {}),
          ...(flags.limitRate ? { rateLimit: flags.limitRate } : {}),
          ...(stateDir ? { stateDir, restart: flags.restart === true } : {}),
        });
        view.stop();
        tally.ok++;
        tally.bytes += r.size;
        io.stdout.write(flags.json ? `${JSON.stringify(resultJson(r))}\n` : formatResult(r, flags.quiet === true));
      } catch (err) {
        view.stop();
        const e = toMpuError(err);
        if (e.sessionId) current.sessionId = e.sessionId;
        if (e instanceof InterruptedError) {
          io.stderr.write(`mpu: interrupted after ${e.partsSent} more parts; to resume: ${resumeHint(file, e.sessionId!)}\n`);
        } else {
          // One line per failure; the way back in is part of it when there is one.
          const hint = current.sessionId && isResumable(e) ? `; session kept, to resume: ${resumeHint(file, current.sessionId)}` : '';
          io.stderr.write(`mpu: ${file}: ${e.message}${hint}\n`);
        }
        tally.failed++;
        if (flags.json) io.stdout.write(`${JSON.stringify({ file, ...errorJson(e) })}\n`);
        if (exitCode === EXIT.ok) exitCode = e.exitCode;
        if (e instanceof InterruptedError) break;
      }
    }
  } finally {
    offSignal?.();
    await pool.close();
  }
  if (files.length > 1 && !flags.json) {
    const skipped = files.length - tally.ok - tally.failed;
    io.stderr.write(
      `mpu: ${plural(tally.ok, 'file')} uploaded (${formatBytes(tally.bytes)})` +
        `${tally.failed ? `, ${tally.failed} failed` : ''}${skipped ? `, ${skipped} not started` : ''}` +
        ` in ${formatDuration(performance.now() - tally.started)}\n`,
    );
  }
  return exitCode;
}

/** Failures after which `--resume` can help: not a refused file, a dead session, or a finished object. */
function isResumable(e: MpuError): boolean {
  return e.exitCode !== EXIT.session && e.exitCode !== EXIT.fileMismatch && e.exitCode !== EXIT.integrity;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function resumeCommand(file: string, sessionId: string): string {
  return `mpu upload ${shellQuote(file)} --resume ${sessionId}`;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function resultJson(r: UploadResult): Record<string, unknown> {
  return { ok: true, ...r, mib_per_s: Number(((r.bytes_sent / 1048576) / Math.max(0.001, r.timings.upload_ms / 1000)).toFixed(1)) };
}

function errorJson(e: MpuError): Record<string, unknown> {
  return {
    ok: false,
    error: e.code,
    message: e.message,
    exit_code: e.exitCode,
    ...(e.sessionId ? { session_id: e.sessionId } : {}),
    ...(e instanceof InterruptedError ? { parts_sent: e.partsSent } : {}),
  };
}

function formatResult(r: UploadResult, quiet: boolean): string {
  const head = `${r.file} -> ${r.file_path}`;
  if (quiet) return `${head}\n`;
  const t = r.timings;
  return [
    `uploaded ${head}`,
    `  ${formatBytes(r.size)} in ${formatDuration(r.duration_ms)}; sent ${r.parts_sent}/${r.parts_total} parts (${formatBytes(r.bytes_sent)}) at ${formatRate(r.bytes_sent, t.upload_ms)}${r.resumed ? ' (resumed)' : ''}`,
    `  etag ${r.etag} (verified against the file)`,
    ...(r.concurrency ? [`  parts in flight: ${formatConcurrency(r.concurrency)}`] : []),
    `  timings: init ${formatDuration(t.init_ms)}, verify ${formatDuration(t.verify_ms)}, upload ${formatDuration(t.upload_ms)}, complete ${formatDuration(t.complete_ms)}, total ${formatDuration(r.duration_ms)}`,
    '',
  ].join('\n');
}

function formatConcurrency(c: NonNullable<UploadResult['concurrency']>): string {
  if (c.mode === 'fixed') return `${c.final} (fixed)`;
  const ns = c.trace.map((p) => String(p.n));
  const path = ns.length > 10 ? [...ns.slice(0, 5), '...', ...ns.slice(-4)] : ns;
  return `auto, ${path.join(' -> ')} (max ${c.max})`;
}

export function formatStatus(s: StatusResponse): string {
  const stored = s.completed_parts.length;
  const lines = [`session ${s.session_id}: ${s.status}`];
  if (s.file_size === null || s.total_parts === null) {
    // A stream still open: its size is known once it completes.
    lines.push(`  stream ${s.filename}, size unknown until completed, parts of ${formatBytes(s.chunk_size)}`);
    lines.push(`  stored ${plural(stored, 'part')}, ${formatBytes(s.bytes_uploaded)}`);
  } else {
    const pct = s.file_size > 0 ? Math.floor((s.bytes_uploaded / s.file_size) * 100) : stored === s.total_parts ? 100 : 0;
    lines.push(`  file ${s.filename}, ${formatBytes(s.file_size)} in ${plural(s.total_parts, 'part')} of ${formatBytes(s.chunk_size)}`);
    if (s.status === 'completed') lines.push(`  stored as ${s.file_path} (etag ${s.etag})`);
    else lines.push(`  stored ${stored}/${s.total_parts} parts, ${formatBytes(s.bytes_uploaded)} (${pct}%)`);
  }
  lines.push(`  created ${s.created_at}, expires ${s.expires_at}`, '');
  return lines.join('\n');
}

export { UsageError };
