/**
 * `npm run bench` (full) / `npm run bench -- --quick` (< 5 min): mpu against a raw presigned PUT,
 * the storage's multipart floor, @aws-sdk/lib-storage and `aws s3 cp`, on a private local cloud
 * (Ceph RGW + DynamoDB Local + API gateway stand-in, all on 127.0.0.1). Writes
 * bench/results/latest.json (or --out) and regenerates docs/benchmarks.md and its SVG charts
 * (bench/report.ts; --no-report to skip).
 *
 * Sections (--only compare,sweep,resume,memory,cost to run a subset):
 *   compare  same file, same endpoint, tools interleaved (order rotated), several repetitions
 *   sweep    mpu through a shaping proxy (RTT, per-connection cap): workers x chunk size
 *   resume   SIGKILL at 90 %, automatic resume; against uninterrupted and starting over
 *   memory   mpu peak RSS by file size and by concurrency
 *   cost     API calls per upload counted in the gateway log; priced in bench/cost-model.ts
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { GATEWAY_LOG_FILE, parseLog } from '../local/gateway-log.js';
import { routeKey } from '../contract/routes.js';
import { GiB, MiB, summarize, type Summary } from './lib/stats.js';
import { lastJson, measure, TIME_BIN, type Measured } from './lib/measure.js';
import { startShapingProxy, type ShapingProxy } from './lib/proxy.js';
import { s3Client, type ToolJob } from './tools/s3-tools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    rtt: { type: 'string', default: '50' },
    'conn-cap': { type: 'string', default: '16' },
    'link-cap': { type: 'string', default: '0' },
  },
});
const quick = args.quick!;
const only = args.only ? new Set(args.only.split(',')) : undefined;
const want = (s: string) => !only || only.has(s);

const CFG = quick
  ? { compareSizes: [128 * MiB], compareReps: 3, sweepSize: 64 * MiB, sweepReps: 1, sweepChunks: [5, 1], sweepWorkers: [1, 2, 4, 8, 16], resumeSize: 256 * MiB, resumeReps: 1, memSizes: [256 * MiB, 1 * GiB], memConc: [1, 4, 16], costSize: 256 * MiB }
  : { compareSizes: [256 * MiB, 1 * GiB], compareReps: 5, sweepSize: 128 * MiB, sweepReps: 2, sweepChunks: [5, 10, 25, 1], sweepWorkers: [1, 2, 4, 8, 16], resumeSize: 1 * GiB, resumeReps: 3, memSizes: [256 * MiB, 1 * GiB, 4 * GiB], memConc: [1, 2, 4, 8, 16], costSize: 1 * GiB };
const DEFAULT_CHUNK = 5 * MiB;
const DEFAULT_CONC = 4;
const shaping = { rttMs: Number(args.rtt), connBytesPerSec: Number(args['conn-cap']) * MiB, linkBytesPerSec: Number(args['link-cap']) * MiB };
const NODE = process.execPath;
const MPU = join(ROOT, 'client/bin/mpu.mjs');
const AWS = ['/usr/bin/aws', '/usr/local/bin/aws'].find((p) => existsSync(p));
const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const t0 = performance.now();

// ---- files -------------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'mpu-bench-'));
const files = new Map<number, string>();
function fileOf(size: number): string {
  let f = files.get(size);
  if (f) return f;
  f = join(work, `bench-${size}.bin`);
  const fd = openSync(f, 'w');
  const block = Buffer.allocUnsafe(16 * MiB);
  for (let done = 0; done < size; ) {
    const n = Math.min(block.length, size - done);
    randomFillSync(block, 0, n);
    writeSync(fd, block, 0, n);
    done += n;
  }
  closeSync(fd);
  files.set(size, f);
  return f;
}
function dropFile(size: number): void {
  const f = files.get(size);
  if (f) rmSync(f, { force: true });
  files.delete(size);
}

// ---- cloud -------------------------------------------------------------------------------
let cloud: LocalCloud | undefined = undefined;
let shaped: LocalCloud | undefined;
let s3Proxy: ShapingProxy | undefined;
let apiProxy: ShapingProxy | undefined;
let stopping = false;
async function cleanup(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await shaped?.stop().catch(() => undefined);
  await s3Proxy?.close();
  await apiProxy?.close();
  await cloud?.stop().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanup().then(() => process.exit(130));
  });
}

if (!existsSync(TIME_BIN)) {
  process.stderr.write(`bench: ${TIME_BIN} (GNU time) is needed to measure CPU and peak RSS: apt-get install -y time\n`);
  process.exit(2);
}
const memstoreBytes = (quick ? 4 : 8) * GiB;
log(`starting the local cloud (memstore ${memstoreBytes / GiB} GiB)`);
cloud = await startLocalCloud({ minPartSize: 1 * MiB, memstoreBytes, endpointsFile: false, settings: { minPartSize: 5 * MiB }, log: () => undefined });
const ep = cloud.endpoints;
const s3Conf = { endpoint: ep.s3_endpoint, region: ep.region, accessKeyId: ep.access_key_id, secretAccessKey: ep.secret_access_key, bucket: ep.bucket };
const s3 = s3Client(s3Conf);

async function drop(key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: ep.bucket, Key: key }));
}
/** Deletes every object and open multipart upload (memstore keeps them in RAM). */
async function sweepBucket(): Promise<void> {
  for (;;) {
    const l = await s3.send(new ListObjectsV2Command({ Bucket: ep.bucket }));
    for (const o of l.Contents ?? []) await drop(o.Key!);
    if (!l.IsTruncated) break;
  }
  const m = await s3.send(new ListMultipartUploadsCommand({ Bucket: ep.bucket }));
  for (const u of m.Uploads ?? []) await s3.send(new AbortMultipartUploadCommand({ Bucket: ep.bucket, Key: u.Key!, UploadId: u.UploadId! }));
}
const keyOfPath = (p: string) => p.replace(/^s3:\/\/[^/]+\//, '');

// ---- tools -------------------------------------------------------------------------------
interface Run {
  tool: string;
  size: number;
  rep: number;
  ms: number;
  wallMs: number;
  cpuS: number;
  maxRssBytes: number;
  mibps: number;
  extra?: Record<string, unknown>;
}

function check(m: Measured, what: string): void {
  if (m.code !== 0) throw new Error(`${what} failed (exit ${m.code ?? m.signal}): ${m.stderr.slice(-1500)}`);
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
}

async function runMpu(file: string, o: { api?: string; token?: string; chunk?: number; concurrency?: number; stateDir?: string; extraArgs?: string[] } = {}): Promise<{ m: Measured; r: MpuResult }> {
  const a = [MPU, 'upload', file, '--api', o.api ?? ep.api_url, '--json', '--no-progress', '-q'];
  const token = o.token ?? ep.token;
  if (token) a.push('--token', token);
  if (o.chunk) a.push('--chunk-size', String(o.chunk));
  if (o.concurrency) a.push('--concurrency', String(o.concurrency));
  if (o.stateDir) a.push('--state-dir', o.stateDir);
  else a.push('--no-state');
  const m = await measure(NODE, a.concat(o.extraArgs ?? []));
  check(m, 'mpu upload');
  const r = lastJson<MpuResult>(m);
  if (!r.ok) throw new Error(`mpu: ${JSON.stringify(r)}`);
  return { m, r };
}

let awsStartupMs = 0;
const awsConfig = join(work, 'aws-config');
function awsEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return { ...env, AWS_CONFIG_FILE: awsConfig, AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_ACCESS_KEY_ID: ep.access_key_id, AWS_SECRET_ACCESS_KEY: ep.secret_access_key, AWS_DEFAULT_REGION: ep.region, AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
}
writeFileSync(
  awsConfig,
  [
    '[default]',
    `region = ${ep.region}`,
    'request_checksum_calculation = when_required',
    'response_checksum_validation = when_required',
    's3 =',
    `  multipart_threshold = ${DEFAULT_CHUNK}`,
    `  multipart_chunksize = ${DEFAULT_CHUNK}`,
    `  max_concurrent_requests = ${DEFAULT_CONC}`,
    '  addressing_style = path',
    '',
  ].join('\n'),
);

async function runTool(tool: string, size: number, rep: number): Promise<Run> {
  const file = fileOf(size);
  const key = `bench/${tool}-${size}-${rep}-${Date.now()}`;
  if (tool === 'mpu') {
    const { m, r } = await runMpu(file);
    await drop(keyOfPath(r.file_path));
    return { tool, size, rep, ms: r.duration_ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: size / MiB / (r.duration_ms / 1000), extra: { timings: r.timings } };
  }
  if (tool === 'aws-cli') {
    const m = await measure(AWS!, ['s3', 'cp', file, `s3://${ep.bucket}/${key}`, '--endpoint-url', ep.s3_endpoint, '--no-progress', '--only-show-errors'], { env: awsEnv() });
    check(m, 'aws s3 cp');
    await drop(key);
    const ms = m.wallMs - awsStartupMs;
    return { tool, size, rep, ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: size / MiB / (ms / 1000) };
  }
  const job: ToolJob = { tool: tool as ToolJob['tool'], file, key, chunk: DEFAULT_CHUNK, concurrency: DEFAULT_CONC, s3: s3Conf };
  const m = await measure(NODE, ['--import', 'tsx', join(ROOT, 'bench/tools/s3-tools.ts'), JSON.stringify(job)]);
  check(m, tool);
  const { ms } = lastJson<{ ms: number }>(m);
  await drop(key);
  return { tool, size, rep, ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: size / MiB / (ms / 1000) };
}

// ---- results -----------------------------------------------------------------------------
const results: Record<string, unknown> = {
  schema: 1,
  mode: quick ? 'quick' : 'full',
  started_at: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, cpu_model: (await import('node:os')).cpus()[0]?.model, mem_gib: Math.round((await import('node:os')).totalmem() / GiB), node: process.version, loadavg_at_start: (await import('node:os')).loadavg() },
  defaults: { chunk: DEFAULT_CHUNK, concurrency: DEFAULT_CONC },
  shaping,
  config: CFG,
};
const failures: Record<string, unknown>[] = [];
results.failures = failures;

try {
  // ---- compare ---------------------------------------------------------------------------
  if (want('compare')) {
    const tools = ['raw-mem', 'raw-disk', 'floor', 'mpu', 'lib-storage'];
    if (AWS) {
      const v = await measure(AWS, ['--version'], { env: awsEnv() });
      results.aws_cli = v.stdout.trim() || v.stderr.trim();
      const starts: number[] = [];
      for (let i = 0; i < 3; i++) starts.push((await measure(AWS, ['s3', 'ls', '--endpoint-url', ep.s3_endpoint], { env: awsEnv() })).wallMs);
      awsStartupMs = summarize(starts).median;
      results.aws_startup_ms = awsStartupMs;
      tools.push('aws-cli');
    } else results.aws_cli = null;
    const runs: Run[] = [];
    for (const size of CFG.compareSizes) {
      log(`compare ${size / MiB} MiB: warm-up`);
      await runTool('mpu', size, -1);
      await runTool('raw-mem', size, -1);
      const reps = size >= GiB ? Math.min(3, CFG.compareReps) : CFG.compareReps;
      for (let rep = 0; rep < reps; rep++) {
        // Rotate the order so no tool always runs first (or right after the heaviest one).
        const order = tools.map((_, i) => tools[(i + rep) % tools.length]!);
        for (const tool of order) {
          const r = await runTool(tool, size, rep);
          runs.push(r);
          log(`compare ${size / MiB} MiB rep ${rep + 1}/${reps} ${tool.padEnd(11)} ${r.mibps.toFixed(1)} MiB/s  cpu ${r.cpuS.toFixed(2)} s  rss ${(r.maxRssBytes / MiB).toFixed(0)} MiB`);
        }
      }
      await sweepBucket();
    }
    results.compare = { runs, summary: summarizeRuns(runs) };
  }

  // ---- sweep (shaped) ----------------------------------------------------------------------
  if (want('sweep') || want('resume')) {
    const rgw = new URL(ep.s3_endpoint);
    s3Proxy = await startShapingProxy({ target: { host: rgw.hostname, port: Number(rgw.port) }, ...shaping });
    shaped = await startLocalCloud({
      externalS3: { endpoint: ep.s3_endpoint, accessKeyId: ep.access_key_id, secretAccessKey: ep.secret_access_key },
      minPartSize: 1 * MiB,
      settings: { s3PublicEndpoint: s3Proxy.url },
      endpointsFile: false,
      skipDependencyCheck: true,
      log: () => undefined,
    });
    const gw = new URL(shaped.endpoints.api_url);
    // The API is far away too: same RTT, no rate cap.
    apiProxy = await startShapingProxy({ target: { host: gw.hostname, port: Number(gw.port) }, rttMs: shaping.rttMs, connBytesPerSec: 0 });
  }
  if (want('sweep')) {
    const size = CFG.sweepSize;
    const file = fileOf(size);
    const runs: (Run & { chunk: number; workers: number })[] = [];
    log(`sweep: ${size / MiB} MiB through the proxy (RTT ${shaping.rttMs} ms, ${shaping.connBytesPerSec / MiB} MiB/s per connection${shaping.linkBytesPerSec ? `, link ${shaping.linkBytesPerSec / MiB} MiB/s` : ''})`);
    await runMpu(file, { api: apiProxy!.url, token: shaped!.endpoints.token, concurrency: 4 }).then(({ r }) => drop(keyOfPath(r.file_path)));
    for (let rep = 0; rep < CFG.sweepReps; rep++) {
      for (const chunkMiB of CFG.sweepChunks) {
        const ws = rep % 2 ? [...CFG.sweepWorkers].reverse() : CFG.sweepWorkers;
        for (const workers of ws) {
          let got: Awaited<ReturnType<typeof runMpu>>;
          try {
            got = await runMpu(file, { api: apiProxy!.url, token: shaped!.endpoints.token, chunk: chunkMiB * MiB, concurrency: workers });
          } catch (e) {
            failures.push({ section: 'sweep', chunk: chunkMiB, workers, rep, error: String(e).slice(0, 500) });
            log(`sweep chunk ${chunkMiB} MiB workers ${workers}: FAILED ${String(e).slice(0, 200)}`);
            continue;
          }
          const { m, r } = got;
          await drop(keyOfPath(r.file_path));
          const run = { tool: 'mpu', size, rep, chunk: chunkMiB * MiB, workers, ms: r.duration_ms, wallMs: m.wallMs, cpuS: m.cpuS, maxRssBytes: m.maxRssBytes, mibps: size / MiB / (r.duration_ms / 1000) };
          runs.push(run);
          log(`sweep rep ${rep + 1}/${CFG.sweepReps} chunk ${chunkMiB} MiB workers ${String(workers).padStart(2)}: ${run.mibps.toFixed(1)} MiB/s`);
        }
      }
    }
    const summary: Record<string, Record<number, Summary>> = {};
    for (const c of CFG.sweepChunks) {
      summary[c] = {};
      for (const w of CFG.sweepWorkers) summary[c]![w] = summarize(runs.filter((r) => r.chunk === c * MiB && r.workers === w).map((r) => r.mibps));
    }
    results.sweep = { size, runs, summary };
    await sweepBucket();
  }

  // ---- resume ----------------------------------------------------------------------------
  if (want('resume')) {
    const variants = [
      { name: 'loopback', size: CFG.resumeSize, api: ep.api_url, token: ep.token },
      { name: 'shaped', size: CFG.sweepSize, api: apiProxy!.url, token: shaped!.endpoints.token },
    ];
    const out: Record<string, unknown>[] = [];
    for (const v of variants) {
      const file = fileOf(v.size);
      for (let rep = 0; rep < CFG.resumeReps; rep++) {
        const full = await runMpu(file, { api: v.api, token: v.token });
        await drop(keyOfPath(full.r.file_path));
        const stateDir = mkdtempSync(join(work, 'state-'));
        const killed = await measure(NODE, ['--import', 'tsx', join(ROOT, 'bench/tools/kill-at.ts'), JSON.stringify({ file, apiUrl: v.api, token: v.token, stateDir, fraction: 0.9 })]);
        if (killed.signal !== 'SIGKILL' && killed.code !== 137 && !/signal 9/.test(killed.stderr)) throw new Error(`kill-at: not killed (exit ${killed.code}): ${killed.stderr.slice(-800)}`);
        const k = lastJson<{ session_id: string; bytes_done: number; parts_done: number; ms: number }>(killed);
        const res = await runMpu(file, { api: v.api, token: v.token, stateDir });
        await drop(keyOfPath(res.r.file_path));
        rmSync(stateDir, { recursive: true, force: true });
        const row = {
          variant: v.name,
          size: v.size,
          rep,
          uninterrupted_ms: full.m.wallMs,
          killed_after_ms: killed.wallMs,
          bytes_done_at_kill: k.bytes_done,
          parts_done_at_kill: k.parts_done,
          resume_ms: res.m.wallMs,
          resume_upload_ms: res.r.duration_ms,
          resume_bytes_sent: res.r.bytes_sent,
          resume_parts_sent: res.r.parts_sent,
          resumed: res.r.resumed,
          // Bytes that went over the wire twice: what the killed run had sent plus what the resume sent, minus the file.
          bytes_resent: k.bytes_done + res.r.bytes_sent - v.size,
          resume_total_ms: killed.wallMs + res.m.wallMs,
          start_over_total_ms: killed.wallMs + full.m.wallMs,
          chunk: res.r.chunk_size,
          concurrency: DEFAULT_CONC,
        };
        out.push(row);
        log(`resume ${v.name} ${v.size / MiB} MiB: killed at ${(k.bytes_done / v.size * 100).toFixed(1)} %, resume sent ${(res.r.bytes_sent / MiB).toFixed(1)} MiB (${(res.r.bytes_sent / v.size * 100).toFixed(1)} %) in ${res.m.wallMs.toFixed(0)} ms; uninterrupted ${full.m.wallMs.toFixed(0)} ms`);
      }
    }
    results.resume = out;
    await sweepBucket();
  }

  // ---- memory ----------------------------------------------------------------------------
  if (want('memory')) {
    const base = await measure(NODE, [MPU, '--help']);
    const bySize: Record<string, unknown>[] = [];
    for (const size of CFG.memSizes) {
      const file = fileOf(size);
      const { m, r } = await runMpu(file);
      await drop(keyOfPath(r.file_path));
      bySize.push({ size, concurrency: DEFAULT_CONC, chunk: r.chunk_size, maxRssBytes: m.maxRssBytes, cpuS: m.cpuS, mibps: size / MiB / (r.duration_ms / 1000) });
      log(`memory ${size / MiB} MiB: peak RSS ${(m.maxRssBytes / MiB).toFixed(0)} MiB, ${(size / MiB / (r.duration_ms / 1000)).toFixed(0)} MiB/s`);
      if (size > 1 * GiB) dropFile(size);
      await sweepBucket();
    }
    const byConc: Record<string, unknown>[] = [];
    const size = CFG.memSizes[0]!;
    for (const c of CFG.memConc) {
      const { m, r } = await runMpu(fileOf(size), { concurrency: c });
      await drop(keyOfPath(r.file_path));
      byConc.push({ size, concurrency: c, chunk: r.chunk_size, maxRssBytes: m.maxRssBytes, cpuS: m.cpuS, mibps: size / MiB / (r.duration_ms / 1000) });
      log(`memory c=${c}: peak RSS ${(m.maxRssBytes / MiB).toFixed(0)} MiB`);
    }
    results.memory = { baseline_rss_bytes: base.maxRssBytes, by_size: bySize, by_concurrency: byConc };
  }

  // ---- cost: API calls per upload, counted in the gateway log ----------------------------
  if (want('cost')) {
    const counts: Record<string, unknown>[] = [];
    for (const size of [CFG.costSize, 64 * MiB]) {
      const logFile = join(cloud.dir, GATEWAY_LOG_FILE);
      const before = readFileSync(logFile, 'utf8').length;
      const { r } = await runMpu(fileOf(size));
      await drop(keyOfPath(r.file_path));
      await new Promise((res) => setTimeout(res, 300));
      const routes: Record<string, number> = {};
      for (const req of parseLog(readFileSync(logFile, 'utf8').slice(before))) {
        if (!req.route) continue;
        // Keyed `POST /upload/{id}/parts`, as in the results written so far (report.ts reads them).
        const route = routeKey(req.route).replace('{session_id}', '{id}');
        routes[route] = (routes[route] ?? 0) + 1;
      }
      counts.push({ size, parts: r.parts_total, chunk: r.chunk_size, routes });
      log(`cost ${size / MiB} MiB (${r.parts_total} parts): ${JSON.stringify(routes)}`);
    }
    results.cost = { counted: counts };
  }
} finally {
  results.duration_s = (performance.now() - t0) / 1000;
  (results.machine as Record<string, unknown>).loadavg_at_end = (await import('node:os')).loadavg();
  s3.destroy();
  await cleanup();
}

function summarizeRuns(runs: Run[]): Record<string, Record<string, { mibps: Summary; cpu_s_per_gib: Summary; max_rss_mib: Summary }>> {
  const out: Record<string, Record<string, { mibps: Summary; cpu_s_per_gib: Summary; max_rss_mib: Summary }>> = {};
  for (const size of new Set(runs.map((r) => r.size))) {
    out[size] = {};
    for (const tool of new Set(runs.map((r) => r.tool))) {
      const rs = runs.filter((r) => r.size === size && r.tool === tool);
      out[size]![tool] = {
        mibps: summarize(rs.map((r) => r.mibps)),
        cpu_s_per_gib: summarize(rs.map((r) => r.cpuS / (size / GiB))),
        max_rss_mib: summarize(rs.map((r) => r.maxRssBytes / MiB)),
      };
    }
  }
  return out;
}

const outFile = args.out ?? join(ROOT, 'bench/results/latest.json');
writeFileSync(outFile, `${JSON.stringify(results, null, 1)}\n`);
log(`done in ${(results.duration_s as number).toFixed(0)} s; wrote ${outFile}`);
if (!args['no-report']) {
  const { writeReport } = await import('./report.js');
  writeReport(outFile);
}
