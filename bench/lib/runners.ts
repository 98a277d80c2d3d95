/**
 * One upload by one tool, as a separate process under GNU time (bench/lib/measure.ts), against a
 * target (an API for mpu, an S3 endpoint for the others: loopback RGW or a shaping proxy in
 * front of it). Every tool is timed the same way as far as each allows: mpu by the duration its
 * result reports (init to complete), the Node tools by their own clock around the transfer,
 * `aws s3 cp` by wall time minus the median start-up of `aws s3 ls`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJson, measure, type Measured } from './measure.js';
import { traceOf, type ConcurrencyPoint } from './mpu-trace.js';
import { MiB, summarize } from './stats.js';
import type { ToolJob } from '../tools/s3-tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;
export const MPU = join(ROOT, 'client/bin/mpu.mjs');
/** Debian's awscli (v2) first: the pyenv shim of a developer machine may be a pip v1. */
export const AWS = ['/usr/bin/aws', '/usr/local/bin/aws'].find((p) => existsSync(p));

/**
 * What runs. `chunk`/`concurrency` undefined = the tool's own defaults, passed as nothing at
 * all (mpu: no flags; lib-storage: no partSize/queueSize; aws-cli: no s3 settings).
 */
export type ToolSpec =
  | { tool: 'mpu'; chunk?: number; concurrency?: number }
  | { tool: 'floor' | 'floor-md5'; chunk: number; concurrency: number }
  | { tool: 'raw-mem' | 'raw-disk' }
  | { tool: 'lib-storage' | 'aws-cli'; chunk?: number; concurrency?: number };

export function label(s: ToolSpec): string {
  const chunk = 'chunk' in s ? s.chunk : undefined;
  const concurrency = 'concurrency' in s ? s.concurrency : undefined;
  if (s.tool === 'raw-mem' || s.tool === 'raw-disk') return s.tool;
  if (concurrency === undefined && chunk === undefined) return `${s.tool} defaults`;
  return `${s.tool} ${concurrency ?? 'd'}x${chunk ? chunk / MiB : 'd'}MiB`;
}

export interface Target {
  /** mpu's API (direct or through the API proxy). */
  api: string;
  token?: string;
  /** S3 endpoint the other tools talk to (RGW or the S3 proxy). */
  s3Endpoint: string;
}

export interface S3Conf {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export interface Run {
  label: string;
  spec: ToolSpec;
  size: number;
  rep: number;
  ms: number;
  wallMs: number;
  cpuS: number;
  maxRssBytes: number;
  mibps: number;
  /** mpu: the part size it chose, the parts, and the concurrency path if it reports one. */
  chunk?: number;
  parts?: number;
  trace?: ConcurrencyPoint[];
  /** mpu's own summary of its worker count (`concurrency` in its --json result), without the trace. */
  workers?: { mode?: string; initial?: number; final?: number; max?: number };
  /** mpu: its phases (init, verify, upload, complete; ms), from its result. */
  timings?: Record<string, number>;
}

interface MpuResult {
  ok: boolean;
  duration_ms: number;
  file_path: string;
  bytes_sent: number;
  parts_sent: number;
  parts_total: number;
  chunk_size: number;
  resumed: boolean;
  timings: Record<string, number>;
  concurrency?: { mode?: string; initial?: number; final?: number; max?: number; trace?: unknown };
}

export function check(m: Measured, what: string): void {
  if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code ?? m.signal}): ${m.stderr.slice(-1500)}`);
}

export interface Runners {
  runMpu(file: string, t: Target, o?: { chunk?: number; concurrency?: number; stateDir?: string; extraArgs?: string[] }): Promise<{ m: Measured; r: MpuResult; trace: ConcurrencyPoint[] }>;
  run(spec: ToolSpec, file: string, size: number, rep: number, t: Target): Promise<Run>;
  /** aws-cli's version line and its measured start-up (ms), or undefined without aws. */
  awsInfo(): Promise<{ version: string; startupMs: number } | undefined>;
}

/**
 * @param drop deletes an object by key after each upload (RGW memstore keeps objects in RAM)
 */
export function createRunners(work: string, s3: S3Conf, loopbackS3: string, drop: (key: string) => Promise<void>): Runners {
  const keyOfPath = (p: string) => p.replace(/^s3:\/\/[^/]+\//, '');
  const awsEnv = (config: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
    return { ...env, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_DEFAULT_REGION: s3.region, AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
  };
  // Checksums only when required, as the other tools (no CRC32 trailers; aws-cli >= 2.23 would
  // add them by default); path-style for RGW. No `s3 =` block = aws-cli's transfer defaults.
  const awsConfig = (spec: { chunk?: number; concurrency?: number }): string => {
    const file = join(work, `aws-config-${spec.concurrency ?? 'd'}-${spec.chunk ?? 'd'}`);
    const lines = ['[default]', `region = ${s3.region}`, 'request_checksum_calculation = when_required', 'response_checksum_validation = when_required', 's3 =', '  addressing_style = path'];
    if (spec.chunk) lines.push(`  multipart_threshold = ${spec.chunk}`, `  multipart_chunksize = ${spec.chunk}`);
    if (spec.concurrency) lines.push(`  max_concurrent_requests = ${spec.concurrency}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  let aws: { version: string; startupMs: number } | undefined;

  const runMpu: Runners['runMpu'] = async (file, t, o = {}) => {
    const a = [MPU, 'upload', file, '--api', t.api, '--json', '--no-progress', '-q'];
    if (t.token) a.push('--token', t.token);
    if (o.chunk) a.push('--chunk-size', String(o.chunk));
    if (o.concurrency) a.push('--concurrency', String(o.concurrency));
    if (o.stateDir) a.push('--state-dir', o.stateDir);
    else a.push('--no-state');
    const m = await measure(NODE, a.concat(o.extraArgs ?? []));
    check(m, 'mpu upload');
    const r = lastJson<MpuResult>(m);
    if (!r.ok) throw new Error(`mpu: ${JSON.stringify(r)}`);
    return { m, r, trace: traceOf(m.stdout, m.stderr) };
  };

  const awsInfo: Runners['awsInfo'] = async () => {
    if (!AWS) return undefined;
    if (aws) return aws;
    const env = awsEnv(awsConfig({}));
    const v = await measure(AWS, ['--version'], { env });
    const starts: number[] = [];
    for (let i = 0; i < 3; i++) starts.push((await measure(AWS, ['s3', 'ls', '--endpoint-url', loopbackS3], { env })).wallMs);
    aws = { version: (v.stdout.trim() || v.stderr.trim()).split('\n')[0]!, startupMs: summarize(starts).median };
    return aws;
  };

  const run: Runners['run'] = async (spec, file, size, rep, t) => {
    const base = { label: label(spec), spec, size, rep };
    const mibps = (ms: number) => size / MiB / (ms / 1000);
    const key = `bench/${label(spec).replace(/\s+/g, '-')}-${size}-${rep}-${Date.now()}`;
    if (spec.tool === 'mpu') {
      const { m, r, trace } = await runMpu(file, t, { ...(spec.chunk ? { chunk: spec.chunk } : {}), ...(spec.concurrency ? { concurrency: spec.concurrency } : {}) });
      await drop(keyOfPath(r.file_path));
      const { trace: _t, ...workers } = r.concurrency ?? {};
      return { ...base, ms: r.duration_ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: mibps(r.duration_ms), chunk: r.chunk_size, parts: r.parts_total, timings: r.timings, ...(trace.length ? { trace } : {}), ...(r.concurrency ? { workers } : {}) };
    }
    if (spec.tool === 'aws-cli') {
      const info = await awsInfo();
      if (!info) throw new Error('aws-cli is not installed (apt-get install -y awscli)');
      const m = await measure(AWS!, ['s3', 'cp', file, `s3://${s3.bucket}/${key}`, '--endpoint-url', t.s3Endpoint, '--no-progress', '--only-show-errors'], { env: awsEnv(awsConfig(spec)) });
      check(m, 'aws s3 cp');
      await drop(key);
      const ms = m.wallMs - info.startupMs;
      return { ...base, ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: mibps(ms) };
    }
    const job: ToolJob = {
      tool: spec.tool,
      file,
      key,
      ...('chunk' in spec && spec.chunk ? { chunk: spec.chunk } : {}),
      ...('concurrency' in spec && spec.concurrency ? { concurrency: spec.concurrency } : {}),
      s3: { ...s3, endpoint: t.s3Endpoint },
    };
    const m = await measure(NODE, ['--import', 'tsx', join(ROOT, 'bench/tools/s3-tools.ts'), JSON.stringify(job)]);
    check(m, spec.tool);
    const { ms } = lastJson<{ ms: number }>(m);
    await drop(key);
    return { ...base, ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: mibps(ms) };
  };

  return { runMpu, run, awsInfo };
}
