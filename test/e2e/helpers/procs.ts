/**
 * Child processes of e2e tests: the real `mpu` CLI and the sweeper's Lambda entry. Every wait
 * is bounded, and every child is killed (by its own pid) if the test gives up on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MPU = join(ROOT, 'client/bin/mpu.mjs');
/** Children run on Node 24: the one Jest runs on, or the project's `node` devDependency. */
export const NODE = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : join(ROOT, 'node_modules/.bin/node');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The environment minus Jest's NODE_OPTIONS and anything that could point an SDK at real AWS. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('AWS_') || k.startsWith('MPU_')) continue;
    env[k] = v;
  }
  return env;
}

export interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Exit code (null when killed by a signal). */
  done: Promise<number | null>;
}

function track(child: ChildProcess): Run {
  const run: Run = { child, stdout: '', stderr: '', done: undefined as unknown as Promise<number | null> };
  child.stdout?.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (run.stderr += d.toString()));
  run.done = new Promise((res) => child.on('close', (code) => res(code)));
  return run;
}

/** `node client/bin/mpu.mjs ARGS` with only `env` (plus PATH/HOME) as its MPU_* configuration. */
export function mpu(args: string[], env: Record<string, string> = {}): Run {
  return track(spawn(NODE, [MPU, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Waits for a run to end; kills it (SIGKILL, its pid only) after `timeoutMs`. */
export async function finish(run: Run, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
  const outcome = await Promise.race([run.done, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    run.child.kill('SIGKILL');
    await run.done;
    throw new Error(`process did not finish within ${timeoutMs} ms; killed it.\nstderr:\n${run.stderr.slice(-3000)}`);
  }
  return outcome;
}

/** The last JSON line of a `--json` run. */
export function lastJson(stdout: string): Record<string, any> {
  const lines = stdout.trim().split('\n').filter(Boolean);
  if (lines.length === 0) throw new Error('no JSON output');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, any>;
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, intervalMs = 20): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface SweepOutcome {
  examined: number;
  expired: number;
  skipped: number;
  failed: number;
}

/**
 * Starts `n` processes running the sweeper's Lambda entry with `handlerEnv` (a local cloud's names its bundle), waits until each
 * has loaded, then lets them all go at once; resolves with each one's SweepResult.
 */
export async function sweepersAtOnce(n: number, handlerEnv: Readonly<Record<string, string>>, timeoutMs = 60_000): Promise<SweepOutcome[]> {
  const runner = join(ROOT, 'test/e2e/helpers/sweep-runner.ts');
  const runs = Array.from({ length: n }, () =>
    track(spawn(NODE, ['--import', TSX, runner], { cwd: ROOT, env: { ...cleanEnv(), ...handlerEnv }, stdio: ['pipe', 'pipe', 'pipe'] })),
  );
  try {
    await waitUntil(() => runs.every((r) => r.stdout.includes('READY\n') || r.child.exitCode !== null), 'the sweepers to load', timeoutMs, 10);
    const early = runs.find((r) => r.child.exitCode !== null);
    if (early) throw new Error(`a sweeper exited before starting: ${early.stderr.slice(-2000)}`);
    for (const r of runs) r.child.stdin!.end('go\n');
    const codes = await Promise.all(runs.map((r) => finish(r, timeoutMs)));
    return runs.map((r, i) => {
      const m = /^RESULT (.+)$/m.exec(r.stdout);
      if (codes[i] !== 0 || !m) throw new Error(`sweeper ${i} failed (exit ${codes[i]}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
      return JSON.parse(m[1]!) as SweepOutcome;
    });
  } finally {
    for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  }
}
