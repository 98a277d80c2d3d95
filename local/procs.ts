/**
 * Child-process plumbing for the local cloud: free ports, daemons we own, waiting, and making
 * sure nothing we started outlives us.
 *
 * Three layers keep orphans away:
 * 1. `Daemon.stop()`: SIGTERM to the daemon's process group, SIGKILL after a grace period.
 * 2. A watchdog process per parent (see WATCHDOG_SOURCE): it holds a pipe from us and, when that
 *    pipe closes without a goodbye (we crashed or were SIGKILLed), kills every registered process
 *    group and deletes registered temp dirs. No signal handler can do this for SIGKILL.
 * 3. A pid file per run dir (`pids`, with each process's start time) plus `owner.pid`: a later
 *    start calls `reapStale()` and kills what a dead owner left behind even if the watchdog died too.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it right away for the daemon). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** `n` distinct free ports (distinct even if the OS hands the same port out twice in a row). */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Last `lines` lines of a file, or '' if it does not exist. Used for startup error messages. */
export function tailFile(path: string, lines = 30): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; throw from it to give up early (e.g. the daemon died). */
  check?: () => void;
}

/** Polls `probe` until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.check?.();
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** True if anything answers HTTP at `url` (any status). */
export async function answersHttp(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Runs a short command to completion; rejects with its output on failure or timeout. */
export function run(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = `${stderr}\n${stdout}`.trim().split('\n').slice(-20).join('\n');
          reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}${detail ? `\n${detail}` : ''}`));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Process start time (clock ticks since boot) from /proc; with the pid it names a process uniquely. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Watchdog

/**
 * Runs as `node -e`. Protocol on stdin, one command per line: `+pid N`, `-pid N`, `+dir P`,
 * `-dir P`, `bye`. On EOF without `bye`, it kills the registered process groups and removes
 * the registered paths (dirs, or files such as endpoints.json). It ignores SIGINT/SIGHUP so a Ctrl-C in the terminal cannot take it down
 * before the parent has cleaned up.
 */
const WATCHDOG_SOURCE = `
const fs = require('fs');
const pids = new Set(), dirs = new Set();
let buf = '', bye = false;
process.on('SIGINT', () => {}); process.on('SIGHUP', () => {});
function kill(sig) { for (const p of pids) { try { process.kill(-p, sig); } catch {} } }
function finish() {
  if (bye || (pids.size === 0 && dirs.size === 0)) process.exit(0);
  kill('SIGTERM');
  setTimeout(() => {
    kill('SIGKILL');
    setTimeout(() => { for (const d of dirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch {} } process.exit(0); }, 300);
  }, 3000);
}
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    const sp = line.indexOf(' ');
    const op = sp < 0 ? line : line.slice(0, sp), arg = sp < 0 ? '' : line.slice(sp + 1);
    if (op === '+pid') pids.add(Number(arg)); else if (op === '-pid') pids.delete(Number(arg));
    else if (op === '+dir') dirs.add(arg); else if (op === '-dir') dirs.delete(arg);
    else if (op === 'bye') bye = true;
  }
});
process.stdin.on('end', finish);
process.stdin.on('error', finish);
`;

class Watchdog {
  private child: ChildProcess | undefined;
  private readonly live = new Set<string>();

  private send(line: string): void {
    if (!this.child) {
      this.child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '' },
      });
      this.child.on('error', () => undefined);
      this.child.stdin!.on('error', () => undefined);
      // Neither the process nor the pipe may keep our event loop alive.
      this.child.unref();
      (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    }
    this.child.stdin!.write(`${line}\n`);
  }

  /** `dir` also takes a file path: anything to delete if we die. */
  track(kind: 'pid' | 'dir', value: string | number): void {
    this.live.add(`${kind} ${value}`);
    this.send(`+${kind} ${value}`);
  }

  untrack(kind: 'pid' | 'dir', value: string | number): void {
    this.live.delete(`${kind} ${value}`);
    if (this.child) this.send(`-${kind} ${value}`);
    // Nothing left to guard: let the watchdog go, a later track() starts a new one.
    if (this.live.size === 0 && this.child) {
      this.send('bye');
      this.child.stdin!.end();
      this.child = undefined;
    }
  }
}

export const watchdog = new Watchdog();

// ---------------------------------------------------------------------------------------------
// Run dirs and stale reaping

/** Parent dir of every run dir; `reapStale()` only ever touches entries in here. */
export function runRoot(base = process.env.MPU_LOCAL_TMP ?? '/tmp'): string {
  return join(base, 'mpu-local-cloud');
}

/** Records which process owns a run dir, so a later start can tell whether it is stale. */
export function claimRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'owner.pid'), `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
  watchdog.track('dir', dir);
}

/** Removes a run dir we own (after its daemons are stopped). */
export function releaseRunDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  watchdog.untrack('dir', dir);
}

function ownerAlive(dir: string): boolean {
  try {
    const [pid, start] = readFileSync(join(dir, 'owner.pid'), 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && isAlive(n) && (!start || startTimeOf(n) === start);
  } catch {
    // No owner file yet: a run dir being created right now, or junk. Judge by age.
    try {
      return Date.now() - statSync(dir).mtimeMs < 60_000;
    } catch {
      return false;
    }
  }
}

/**
 * Kills processes left behind by a local cloud whose owner died (listed in `<dir>/**\/pids` with
 * their start times, so a recycled pid is never hit), then deletes its run dir.
 * Returns the run dirs it cleaned.
 */
export function reapStale(root = runRoot()): string[] {
  if (!existsSync(root)) return [];
  const cleaned: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (ownerAlive(dir)) continue;
    for (const pidFile of findPidFiles(dir)) {
      for (const line of readFileSync(pidFile, 'utf8').split('\n')) {
        const [pid, start] = line.trim().split(' ');
        const n = Number(pid);
        if (!Number.isInteger(n) || n <= 1 || !start) continue;
        if (startTimeOf(n) === start) {
          try {
            process.kill(-n, 'SIGKILL');
          } catch {
            try {
              process.kill(n, 'SIGKILL');
            } catch {
              /* already gone */
            }
          }
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    cleaned.push(dir);
  }
  return cleaned;
}

function findPidFiles(dir: string, depth = 0): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (e === 'pids') out.push(p);
    else if (depth < 2) {
      try {
        if (statSync(p).isDirectory()) out.push(...findPidFiles(p, depth + 1));
      } catch {
        /* vanished */
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Daemons

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr go here (appended). */
  logFile: string;
  /** Where to record the pid for stale reaping (a `pids` file in this dir). */
  pidDir?: string;
}

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, with a description like `exit code 1` or `signal SIGKILL`. */
  readonly exited: Promise<string>;
  running(): boolean;
  /** SIGTERM (or `signal`) to the process group; SIGKILL after `graceMs`. Resolves once it is gone. */
  stop(opts?: { graceMs?: number; signal?: NodeJS.Signals }): Promise<void>;
}

/**
 * Starts a long-running process in its own process group (so a terminal's Ctrl-C does not hit it
 * before we can stop things in order, and so a kill reaches anything it forks).
 */
export function startDaemon(spec: DaemonSpec): Daemon {
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exitInfo: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => {
      exitInfo = `spawn error: ${e.message}`;
      resolve(exitInfo);
    });
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve(exitInfo);
    });
  });
  const pid = child.pid;
  if (pid !== undefined) {
    watchdog.track('pid', pid);
    if (spec.pidDir) appendFileSync(join(spec.pidDir, 'pids'), `${pid} ${startTimeOf(pid) ?? ''} ${spec.name}\n`);
    void exited.then(() => watchdog.untrack('pid', pid));
  }
  // The daemon must not keep a CLI like `npm run local` alive on its own; we stop it explicitly.
  child.unref();

  const signalGroup = (sig: NodeJS.Signals) => {
    if (pid === undefined || exitInfo !== undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };

  return {
    name: spec.name,
    pid: pid ?? -1,
    logFile: spec.logFile,
    exited,
    running: () => pid !== undefined && exitInfo === undefined,
    async stop({ graceMs = 3000, signal = 'SIGTERM' } = {}) {
      if (exitInfo !== undefined || pid === undefined) return;
      // Unref'd children do not keep Node running: without this, a script whose last act is
      // `await stop()` could exit before the 'exit' event (leaving the rest to the watchdog).
      child.ref();
      signalGroup(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing it forked into its group lingers.
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* empty group */
      }
    },
  };
}

/** Throws a descriptive error (with the log tail) if a daemon we need has exited. */
export function assertRunning(d: Daemon, extraLog?: string): void {
  if (d.running()) return;
  throw new Error(`${d.name} exited during startup\n--- ${d.logFile} ---\n${tailFile(d.logFile)}${extraLog ? `\n--- ${extraLog} ---\n${tailFile(extraLog)}` : ''}`);
}
