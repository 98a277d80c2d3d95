/**
 * Runs one tool as a child process under GNU time, the same way for every tool: wall time,
 * client CPU seconds (user + system, the process and any children it waited for) and peak RSS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  cpuS: number;
  maxRssBytes: number;
  stdout: string;
  stderr: string;
}

export const TIME_BIN = '/usr/bin/time';

export async function measure(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'mpu-bench-time-'));
  const out = join(dir, 'time.txt');
  const t = performance.now();
  const child = spawn(TIME_BIN, ['-f', '%U %S %M', '-o', out, cmd, ...args], { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15 * 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const wallMs = performance.now() - t;
  let cpuS = NaN;
  let maxRssBytes = NaN;
  try {
    // With a killed child GNU time writes "Command terminated by signal 9" first.
    const last = readFileSync(out, 'utf8').trim().split('\n').pop()!;
    const [u, s, m] = last.split(/\s+/).map(Number);
    cpuS = u! + s!;
    maxRssBytes = m! * 1024;
  } catch {
    /* no stats */
  }
  rmSync(dir, { recursive: true, force: true });
  return { code, signal, wallMs, cpuS, maxRssBytes, stdout, stderr };
}

/** The last JSON object a tool printed on stdout. */
export function lastJson<T>(m: Measured): T {
  const line = m.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`no JSON from tool (exit ${m.code}): ${m.stderr.slice(-800)}`);
  return JSON.parse(line) as T;
}
