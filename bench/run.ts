/**
 * `npm run bench` (full, ~18 min on 2 shared cores) / `npm run bench -- --quick` (~5 min): mpu against the
 * storage's multipart floor, @aws-sdk/lib-storage and `aws s3 cp`, on loopback and over shaped
 * WAN profiles, on a private local cloud (Ceph RGW + DynamoDB Local + API gateway stand-in, all
 * on 127.0.0.1). Writes bench/results/latest.json (or --out) and regenerates docs/benchmarks.md
 * and its SVG charts (bench/report.ts; --no-report to skip).
 *
 * Sections (--only loopback,wan,api,resume,memory for a subset; a section not run keeps its
 * previous results in the file, with the date and commit they were measured at):
 *   loopback  mpu vs the multipart floor at the same part size and concurrency, mpu defaults,
 *             the single-PUT ceiling, lib-storage and aws-cli defaults; CPU s/GiB, peak RSS
 *   wan       per WAN profile (bench/lib/wan-profiles.ts): best fixed setting (pruned grid
 *             search), mpu defaults, aws-cli and lib-storage defaults through a shaping proxy
 *   api       API calls per upload counted in the gateway log (64 MiB, 1 GiB, >= 1000 parts)
 *   resume    SIGKILL at 90 %, automatic resume; against uninterrupted and starting over
 *   memory    mpu peak RSS by file size and by concurrency
 * --profiles id,id runs a subset of the WAN profiles; --wan-size MiB sets their file size.
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DeleteObjectCommand, ListMultipartUploadsCommand, AbortMultipartUploadCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { GiB, MiB } from './lib/stats.js';
import { measure, TIME_BIN } from './lib/measure.js';
import { startShapingProxy, type ShapingProxy } from './lib/proxy.js';
import { createRunners, type Target } from './lib/runners.js';
import { GRID, QUICK_PROFILE_IDS, WAN_PROFILES } from './lib/wan-profiles.js';
import { countApiCalls } from './sections/api-calls.js';
import { runLoopback } from './sections/loopback.js';
import { runWan } from './sections/wan.js';
import { s3Client } from './tools/s3-tools.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECTIONS = ['loopback', 'wan', 'api', 'resume', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    profiles: { type: 'string' },
    /** WAN file size in MiB (default 192 full, 64 quick). */
    'wan-size': { type: 'string' },
    'no-report': { type: 'boolean', default: false },
  },
});
const quick = args.quick!;
const only = args.only ? new Set(args.only.split(',')) : undefined;
for (const s of only ?? []) if (!SECTIONS.includes(s as Section)) throw new Error(`--only: unknown section ${s} (${SECTIONS.join(', ')})`);
const want = (s: Section) => !only || only.has(s);
const profileIds = args.profiles?.split(',') ?? (quick ? QUICK_PROFILE_IDS : WAN_PROFILES.map((p) => p.id));
const profiles = profileIds.map((id) => {
  const p = WAN_PROFILES.find((q) => q.id === id);
  if (!p) throw new Error(`--profiles: unknown profile ${id} (${WAN_PROFILES.map((q) => q.id).join(', ')})`);
  return p;
});

/** Resume and memory keep the pre-adaptive fixed setting, so their bounds (c x part) are defined. */
const FIXED = { chunk: 5 * MiB, concurrency: 4 };
const CFG = quick
  ? {
      loopback: { size: 128 * MiB, reps: 2, concurrency: [4, 8], partMiB: [5, 16] },
      wan: { size: 64 * MiB, reps: 2, finalists: 1, grid: GRID },
      api: { sizes: [64 * MiB, 256 * MiB], manyParts: { size: 1 * GiB, chunk: 1 * MiB } },
      resume: { size: 256 * MiB, shapedSize: 64 * MiB, reps: 1 },
      memory: { sizes: [256 * MiB, 1 * GiB], concurrency: [1, 4, 16] },
    }
  : {
      loopback: { size: 256 * MiB, reps: 3, concurrency: [4, 8], partMiB: [5, 16] },
      wan: { size: 192 * MiB, reps: 2, finalists: 2, grid: GRID },
      api: { sizes: [64 * MiB, 1 * GiB], manyParts: { size: 1 * GiB, chunk: 1 * MiB } },
      resume: { size: 1 * GiB, shapedSize: 128 * MiB, reps: 2 },
      memory: { sizes: [256 * MiB, 1 * GiB, 4 * GiB], concurrency: [1, 2, 4, 8, 16] },
    };
if (args['wan-size']) CFG.wan.size = Number(args['wan-size']) * MiB;
const NODE = process.execPath;
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
const loopback: Target = { api: ep.api_url, ...(ep.token ? { token: ep.token } : {}), s3Endpoint: ep.s3_endpoint };

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
const runners = createRunners(work, s3Conf, ep.s3_endpoint, drop);

/**
 * A second API (own DynamoDB and gateway, same RGW) whose handlers presign for the S3 proxy,
 * and an API proxy in front of its gateway. Unshaped until a section reshapes them.
 */
async function shapedCloud(): Promise<{ cloud: LocalCloud; target: Target }> {
  if (!shaped) {
    const rgw = new URL(ep.s3_endpoint);
    s3Proxy = await startShapingProxy({ target: { host: rgw.hostname, port: Number(rgw.port) }, rttMs: 0, connBytesPerSec: 0 });
    shaped = await startLocalCloud({
      externalS3: { endpoint: ep.s3_endpoint, accessKeyId: ep.access_key_id, secretAccessKey: ep.secret_access_key },
      minPartSize: 1 * MiB,
      settings: { s3PublicEndpoint: s3Proxy.url },
      endpointsFile: false,
      skipDependencyCheck: true,
      log: () => undefined,
    });
    const gw = new URL(shaped.endpoints.api_url);
    apiProxy = await startShapingProxy({ target: { host: gw.hostname, port: Number(gw.port) }, rttMs: 0, connBytesPerSec: 0 });
  }
  return { cloud: shaped, target: { api: apiProxy!.url, ...(shaped.endpoints.token ? { token: shaped.endpoints.token } : {}), s3Endpoint: s3Proxy!.url } };
}
function unshape(): void {
  s3Proxy?.reshape({ rttMs: 0, connBytesPerSec: 0, linkBytesPerSec: 0 });
  apiProxy?.reshape({ rttMs: 0, connBytesPerSec: 0, linkBytesPerSec: 0 });
}

// ---- results -----------------------------------------------------------------------------
/** What a section's numbers were measured on: when, which code, how loaded the machine was. */
function git(...a: string[]): string {
  try {
    return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}
const engine = {
  commit: git('rev-parse', '--short', 'HEAD'),
  // The tree is shared with other work in progress: uncommitted client changes are in the build.
  uncommitted_client_files: git('status', '--porcelain', '--', 'client', 'contract').split('\n').filter(Boolean).length,
};
interface Meta {
  mode: string;
  started_at: string;
  duration_s: number;
  loadavg_start: number[];
  loadavg_end: number[];
  commit: string;
  uncommitted_client_files: number;
}
const outFile = args.out ?? join(ROOT, 'bench/results/latest.json');
const previous = existsSync(outFile) ? (JSON.parse(readFileSync(outFile, 'utf8')) as { schema?: number; sections?: Record<string, unknown> }) : undefined;
// Sections not run this time are kept from the previous file (schema 2 only: older layouts differ).
const sections: Record<string, unknown> = previous?.schema === 2 ? { ...previous.sections } : {};
const results: Record<string, unknown> = {
  schema: 2,
  mode: quick ? 'quick' : 'full',
  started_at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, mem_gib: Math.round(totalmem() / GiB), node: process.version, loadavg_at_start: loadavg() },
  sections,
};
async function section<T extends object>(name: Section, fn: () => Promise<T>): Promise<void> {
  if (!want(name)) return;
  const started = new Date().toISOString();
  const la = loadavg();
  const t = performance.now();
  log(`== ${name}`);
  const data = await fn();
  const meta: Meta = { mode: quick ? 'quick' : 'full', started_at: started, duration_s: (performance.now() - t) / 1000, loadavg_start: la, loadavg_end: loadavg(), ...engine };
  sections[name] = { meta, ...data };
  await sweepBucket();
}

try {
  const aws = await runners.awsInfo();
  if (!aws) log('aws-cli not installed (apt-get install -y awscli): its rows are skipped');
  results.aws_cli = aws ?? null;

  await section('loopback', async () => runLoopback({ cfg: { ...CFG.loopback, withAws: !!aws }, file: fileOf(CFG.loopback.size), runners, target: loopback, log }));

  await section('wan', async () => {
    const { target } = await shapedCloud();
    const cfg = { ...CFG.wan, profiles, withAws: !!aws };
    const out = await runWan({ cfg, file: fileOf(cfg.size), runners, s3Proxy: s3Proxy!, apiProxy: apiProxy!, target, log });
    unshape();
    return { size: cfg.size, reps: cfg.reps, grid: cfg.grid, finalists: cfg.finalists, profiles: out };
  });

  await section('api', async () => {
    const { cloud: sc, target } = await shapedCloud();
    unshape();
    const many = CFG.api.manyParts;
    const counted = await countApiCalls(
      [
        ...CFG.api.sizes.map((size) => ({ size, file: fileOf(size), target: loopback, cloudDir: cloud!.dir })),
        // >= 1000 parts needs parts below the 5 MiB minimum for a 1 GiB file: the second API
        // allows 1 MiB (RGW too), through the proxies left unshaped.
        { size: many.size, chunk: many.chunk, file: fileOf(many.size), target, cloudDir: sc.dir },
      ],
      runners,
      drop,
      log,
    );
    return { counted };
  });

  await section('resume', async () => {
    const { target: shapedTarget } = await shapedCloud();
    // The reference WAN profile for the shaped variant.
    const ref = WAN_PROFILES.find((p) => p.id === QUICK_PROFILE_IDS[0])!;
    s3Proxy!.reshape(ref);
    apiProxy!.reshape({ rttMs: ref.rttMs, connBytesPerSec: 0, linkBytesPerSec: 0 });
    const variants = [
      { name: 'loopback', size: CFG.resume.size, t: loopback },
      { name: `shaped ${ref.id}`, size: CFG.resume.shapedSize, t: shapedTarget },
    ];
    const rows: Record<string, unknown>[] = [];
    for (const v of variants) {
      const file = fileOf(v.size);
      for (let rep = 0; rep < CFG.resume.reps; rep++) {
        const full = await runners.runMpu(file, v.t, FIXED);
        await drop(keyOfPath(full.r.file_path));
        const stateDir = mkdtempSync(join(work, 'state-'));
        const killed = await measure(NODE, ['--import', 'tsx', join(ROOT, 'bench/tools/kill-at.ts'), JSON.stringify({ file, apiUrl: v.t.api, token: v.t.token, stateDir, fraction: 0.9, chunkSize: FIXED.chunk, concurrency: FIXED.concurrency })]);
        if (killed.signal !== 'SIGKILL' && killed.code !== 137 && !/signal 9/.test(killed.stderr)) throw new Error(`kill-at: not killed (exit ${killed.code}): ${killed.stderr.slice(-800)}`);
        const k = JSON.parse(killed.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as { bytes_done: number; parts_done: number };
        const res = await runners.runMpu(file, v.t, { ...FIXED, stateDir });
        await drop(keyOfPath(res.r.file_path));
        rmSync(stateDir, { recursive: true, force: true });
        rows.push({
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
          concurrency: FIXED.concurrency,
        });
        log(`resume ${v.name} ${v.size / MiB} MiB: killed at ${((k.bytes_done / v.size) * 100).toFixed(1)} %, resume sent ${(res.r.bytes_sent / MiB).toFixed(1)} MiB in ${res.m.wallMs.toFixed(0)} ms; uninterrupted ${full.m.wallMs.toFixed(0)} ms`);
      }
    }
    unshape();
    return { rows };
  });

  await section('memory', async () => {
    const base = await measure(NODE, [join(ROOT, 'client/bin/mpu.mjs'), '--help']);
    const bySize: Record<string, unknown>[] = [];
    for (const size of CFG.memory.sizes) {
      const { m, r } = await runners.runMpu(fileOf(size), loopback, FIXED);
      await drop(keyOfPath(r.file_path));
      bySize.push({ size, concurrency: FIXED.concurrency, chunk: r.chunk_size, maxRssBytes: m.maxRssBytes, cpuS: m.cpuS, mibps: size / MiB / (r.duration_ms / 1000) });
      log(`memory ${size / MiB} MiB: peak RSS ${(m.maxRssBytes / MiB).toFixed(0)} MiB`);
      if (size > 1 * GiB) dropFile(size);
      await sweepBucket();
    }
    const byConc: Record<string, unknown>[] = [];
    const size = CFG.memory.sizes[0]!;
    for (const c of CFG.memory.concurrency) {
      const { m, r } = await runners.runMpu(fileOf(size), loopback, { chunk: FIXED.chunk, concurrency: c });
      await drop(keyOfPath(r.file_path));
      byConc.push({ size, concurrency: c, chunk: r.chunk_size, maxRssBytes: m.maxRssBytes, mibps: size / MiB / (r.duration_ms / 1000) });
      log(`memory c=${c}: peak RSS ${(m.maxRssBytes / MiB).toFixed(0)} MiB`);
    }
    return { baseline_rss_bytes: base.maxRssBytes, by_size: bySize, by_concurrency: byConc };
  });
} catch (e) {
  // The sections done so far are kept (a long run is not lost to its last section); exit 1.
  results.error = String(e).slice(0, 2000);
  log(`FAILED: ${String(e).slice(0, 500)}`);
  process.exitCode = 1;
} finally {
  results.duration_s = (performance.now() - t0) / 1000;
  (results.machine as Record<string, unknown>).loadavg_at_end = loadavg();
  s3.destroy();
  await cleanup();
}

writeFileSync(outFile, `${JSON.stringify(results, null, 1)}\n`);
log(`done in ${(results.duration_s as number).toFixed(0)} s; wrote ${outFile}`);
if (!args['no-report']) {
  const { writeReport } = await import('./report.js');
  writeReport(outFile);
}
