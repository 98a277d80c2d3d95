/**
 * `npm run load`: many concurrent uploads through the local cloud with the client library, every
 * object verified, latency per API route measured at the client, and a non-zero exit on any
 * failed upload, any 5xx or any mismatch.
 *
 * Default: 50 uploads at once from 5 owners (one API token each when the API has auth), each file
 * 8-16 MiB of random bytes, 2 part PUTs in flight per upload. Uses a running local cloud
 * (MPU_ENDPOINTS_FILE, else .local/endpoints.json) or starts one and stops it afterwards.
 *
 *   npm run load -- [--uploads 50] [--owners 5] [--min-size 8MiB] [--max-size 16MiB]
 *                   [--concurrency 2] [--chunk-size 5MiB] [--verify all|N] [--fresh] [--keep] [--json FILE]
 *
 * Every HTTP exchange of the client (API calls and part PUTs, retries included) is reported by the
 * client pool's `onExchange` hook, which records its route, status and time from request start to the end of
 * the response. After the run, each object's SHA-256 is read back and compared with the file's.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeleteObjectsCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MiB } from '../contract/limits.js';
import { ROUTES, matchPath, routeKey } from '../contract/routes.js';
import { createPool, md5, multipartEtag, parseSize, upload, type HttpExchange, type UploadResult } from '../client/index.js';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { defaultEndpointsFile, endpointsAnswer, readEndpointsFile, type LocalEndpoints } from '../local/endpoints.js';
import { announces, GATEWAY_LOG_FILE, parseLog } from '../local/gateway-log.js';
import { runRoot } from '../local/procs.js';
import { localS3Client } from '../local/resources.js';
import { writeRandomFile } from './random-file.js';

const { values: args } = parseArgs({
  options: {
    uploads: { type: 'string', default: '50' },
    owners: { type: 'string', default: '5' },
    'min-size': { type: 'string', default: '8MiB' },
    'max-size': { type: 'string', default: '16MiB' },
    concurrency: { type: 'string', default: '2' },
    'chunk-size': { type: 'string', default: '5MiB' },
    verify: { type: 'string', default: 'all' },
    fresh: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const UPLOADS = intArg('uploads', 1, 500);
const OWNERS = intArg('owners', 1, 50);
const CONCURRENCY = intArg('concurrency', 1, 16);
const MIN_SIZE = parseSize(args['min-size']!);
const MAX_SIZE = parseSize(args['max-size']!);
const CHUNK = parseSize(args['chunk-size']!);
const VERIFY = args.verify === 'all' ? UPLOADS : Math.min(UPLOADS, Number(args.verify));
const MPU_ADMIN = join(PROJECT_ROOT, 'ops/admin/bin/mpu-admin.mjs');

function intArg(name: 'uploads' | 'owners' | 'concurrency', min: number, max: number): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

const say = (line: string) => console.log(`load: ${line}`);

// --- measurements ----------------------------------------------------------------------------

interface Sample {
  route: string;
  status: number | 'error';
  ms: number;
}
const samples: Sample[] = [];

/** Route of a request: an API route id from the route table, or the S3 part PUT. */
function routeOf(apiOrigin: string, origin: string, method: string, path: string): string {
  if (origin === apiOrigin) {
    const pathname = path.split('?')[0]!;
    const route = ROUTES.find((r) => r.method === method && matchPath(r.path, pathname));
    return route ? `${route.method} ${route.path}` : `${method} (unrouted)`;
  }
  return method === 'PUT' && /[?&]partNumber=/.test(path) ? 'S3 PUT part' : `S3 ${method}`;
}

/** Records route, status and duration of every exchange (the client pool's `onExchange`). */
function timing(apiOrigin: string): (e: HttpExchange) => void {
  return (e) => {
    const u = new URL(e.url);
    samples.push({ route: routeOf(apiOrigin, u.origin, e.method, u.pathname + u.search), status: e.status, ms: e.ms });
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Latency percentiles (ms) and statuses of one route, as the gateway saw it. */

/** The same, as the clients saw it, with their failures. */
interface RouteStats extends GatewayStats {
  errors5xx: number;
  networkErrors: number;
}

function summarise(): RouteStats[] {
  const byRoute = new Map<string, Sample[]>();
  for (const s of samples) byRoute.set(s.route, [...(byRoute.get(s.route) ?? []), s]);
  const order = [...ROUTES.map((r) => `${r.method} ${r.path}`), 'S3 PUT part'];
  return [...byRoute.entries()]
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map(([route, list]) => {
      const ms = list.map((s) => s.ms).sort((a, b) => a - b);
      const statuses: Record<string, number> = {};
      for (const s of list) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
      return {
        route,
        count: list.length,
        p50: percentile(ms, 50),
        p95: percentile(ms, 95),
        p99: percentile(ms, 99),
        max: ms[ms.length - 1]!,
        statuses,
        errors5xx: list.filter((s) => typeof s.status === 'number' && s.status >= 500).length,
        networkErrors: list.filter((s) => s.status === 'error').length,
      };
    });
}

/**
 * The gateway's own request log (`<run dir>/gateway.log`, format in local/gateway-log.ts):
 * latency as the API side sees it, without the client's queueing. Found by the API's address.
 */
function findGatewayLog(apiUrl: string): string | undefined {
  const root = runRoot();
  if (!existsSync(root)) return undefined;
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, GATEWAY_LOG_FILE);
    try {
      if (announces(readFileSync(file, 'utf8'), apiUrl)) return file;
    } catch {
      /* not a cloud dir, or no gateway */
    }
  }
  return undefined;
}

interface GatewayStats {
  route: string;
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
}

function gatewayStats(file: string, fromByte: number): GatewayStats[] {
  const text = readFileSync(file).subarray(fromByte).toString('utf8');
  const byRoute = new Map<string, { ms: number[]; statuses: Record<string, number> }>();
  for (const req of parseLog(text)) {
    const key = req.route ? routeKey(req.route) : `${req.method} (unrouted)`;
    const entry = byRoute.get(key) ?? { ms: [], statuses: {} };
    entry.ms.push(req.ms);
    entry.statuses[req.status] = (entry.statuses[req.status] ?? 0) + 1;
    byRoute.set(key, entry);
  }
  return [...byRoute.entries()].map(([route, { ms, statuses }]) => {
    ms.sort((a, b) => a - b);
    return { route, count: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: ms[ms.length - 1]!, statuses };
  });
}

// --- setup -----------------------------------------------------------------------------------

async function findCloud(work: string): Promise<{ endpoints: LocalEndpoints; endpointsFile: string; cloud?: LocalCloud }> {
  const candidates = [process.env.MPU_ENDPOINTS_FILE, defaultEndpointsFile(PROJECT_ROOT)].filter((f): f is string => !!f);
  if (!args.fresh) {
    for (const file of candidates) {
      if (existsSync(file)) {
        const endpoints = readEndpointsFile(file);
        if (await endpointsAnswer(endpoints)) {
          say(`using the running local cloud of ${file} (${endpoints.api_url})`);
          return { endpoints, endpointsFile: file };
        }
      }
    }
  }
  say('starting a local cloud (Ceph RGW, DynamoDB Local, API gateway)...');
  const endpointsFile = join(work, 'endpoints.json');
  const cloud = await startLocalCloud({ endpointsFile, log: (l) => say(`cloud: ${l}`) });
  return { endpoints: cloud.endpoints, endpointsFile, cloud };
}

function runAdmin(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MPU_ADMIN, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Owner {
  name: string;
  token?: string;
  tokenId?: string;
}

/**
 * One API token per owner, made with `mpu-admin token create` (the operator's way) on the cloud's
 * tokens table. Without auth (no token in the endpoints file), every upload is the same caller.
 */
async function makeOwners(endpoints: LocalEndpoints, endpointsFile: string): Promise<Owner[]> {
  const names = Array.from({ length: OWNERS }, (_, i) => `load-owner-${i + 1}`);
  if (!endpoints.token) {
    say(`the API has no authorizer: all ${UPLOADS} uploads are one caller (owner 'anonymous')`);
    return [{ name: 'anonymous' }];
  }
  const env = { ...process.env, MPU_ENDPOINTS_FILE: endpointsFile };
  return Promise.all(
    names.map(async (name) => {
      const r = await runAdmin(['token', 'create', '--owner', name, '--description', 'npm run load', '--endpoints-file', endpointsFile, '--json'], env);
      if (r.code !== 0) throw new Error(`mpu-admin token create --owner ${name} failed (exit ${r.code}): ${r.stderr || r.stdout}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { token: string; token_id?: string };
      return { name, token: out.token, ...(out.token_id ? { tokenId: out.token_id } : {}) };
    }),
  );
}

async function revokeOwners(owners: Owner[], endpointsFile: string): Promise<void> {
  const env = { ...process.env, MPU_ENDPOINTS_FILE: endpointsFile };
  await Promise.all(owners.filter((o) => o.token).map((o) => runAdmin(['token', 'revoke', o.tokenId ?? o.token!, '--endpoints-file', endpointsFile], env)));
}

/** S3's multipart ETag of a file split into `chunk`-byte parts: md5(md5(part 1) ... md5(part n))-n. */
async function fileEtag(path: string, size: number, chunk: number): Promise<string> {
  const digests: Buffer[] = [];
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(chunk, Math.max(size, 1)));
    for (let off = 0; off < size || digests.length === 0; off += chunk) {
      const len = Math.min(chunk, size - off);
      const { bytesRead } = await fh.read(buf, 0, len, off);
      digests.push(md5(buf.subarray(0, bytesRead)));
    }
  } finally {
    await fh.close();
  }
  return multipartEtag(digests);
}

async function sha256Object(s3: S3Client, filePath: string): Promise<string> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(filePath)!;
  const out = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  const h = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) h.update(chunk);
  return h.digest('hex');
}

// --- run -------------------------------------------------------------------------------------

interface Job {
  index: number;
  owner: Owner;
  file: string;
  size: number;
  sha256: string;
  result?: UploadResult;
  error?: string;
  verified?: boolean;
}

async function main(): Promise<number> {
  if (args.help) {
    console.log('npm run load -- [--uploads 50] [--owners 5] [--min-size 8MiB] [--max-size 16MiB] [--concurrency 2] [--chunk-size 5MiB] [--verify all|N] [--fresh] [--keep] [--json FILE]');
    return 0;
  }
  if (MIN_SIZE > MAX_SIZE) throw new Error('--min-size must not exceed --max-size');
  const work = mkdtempSync(join(tmpdir(), 'mpu-load-'));
  let cloud: LocalCloud | undefined;
  let owners: Owner[] = [];
  let endpointsFile = '';
  let s3: S3Client | undefined;
  const stopping = () => void cleanup().then(() => process.exit(130));
  process.once('SIGINT', stopping);
  process.once('SIGTERM', stopping);
  async function cleanup(): Promise<void> {
    if (owners.length && endpointsFile) await revokeOwners(owners, endpointsFile).catch(() => undefined);
    owners = [];
    s3?.destroy();
    await cloud?.stop();
    cloud = undefined;
    rmSync(work, { recursive: true, force: true });
  }

  try {
    const found = await findCloud(work);
    cloud = found.cloud;
    endpointsFile = found.endpointsFile;
    const e = found.endpoints;
    s3 = localS3Client(e.s3_endpoint, e.region, { accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key });
    owners = await makeOwners(e, endpointsFile);
    if (owners.length > 1) say(`${owners.length} owners, one API token each: ${owners.map((o) => o.name).join(', ')}`);

    // Sizes spread evenly over [min, max] (a fixed spread, so runs compare), files written first.
    const t0 = performance.now();
    const jobs: Job[] = await Promise.all(
      Array.from({ length: UPLOADS }, async (_, i) => {
        const size = UPLOADS === 1 ? MIN_SIZE : Math.round(MIN_SIZE + ((MAX_SIZE - MIN_SIZE) * i) / (UPLOADS - 1));
        const file = join(work, `load-${String(i).padStart(3, '0')}.bin`);
        return { index: i, owner: owners[i % owners.length]!, file, size, sha256: await writeRandomFile(file, size) };
      }),
    );
    const totalBytes = jobs.reduce((n, j) => n + j.size, 0);
    say(`wrote ${UPLOADS} files, ${(totalBytes / MiB).toFixed(0)} MiB, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const apiOrigin = new URL(e.api_url).origin;
    const gatewayLog = findGatewayLog(e.api_url);
    const gatewayLogFrom = gatewayLog ? statSync(gatewayLog).size : 0;
    say(`${UPLOADS} uploads at once, ${CONCURRENCY} part PUTs in flight each (up to ${UPLOADS * CONCURRENCY}), chunk ${(CHUNK / MiB).toFixed(0)} MiB`);
    const started = performance.now();
    await Promise.all(
      jobs.map(async (job) => {
        const pool = createPool({ connections: CONCURRENCY + 2, onExchange: timing(apiOrigin) });
        try {
          job.result = await upload({
            file: job.file,
            apiUrl: e.api_url,
            ...(job.owner.token ? { token: job.owner.token } : {}),
            chunkSize: CHUNK,
            concurrency: CONCURRENCY,
            pool,
          });
        } catch (err) {
          job.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        } finally {
          await pool.close();
        }
      }),
    );
    const wallMs = performance.now() - started;
    const ok = jobs.filter((j) => j.result);
    say(`${ok.length}/${UPLOADS} uploads completed in ${(wallMs / 1000).toFixed(1)} s (${(totalBytes / MiB / (wallMs / 1000)).toFixed(1)} MiB/s)`);

    // The client already checked each object's ETag against its part MD5s; check it again here
    // from the file, and read every object back for its SHA-256.
    const tv = performance.now();
    const toVerify = ok.slice(0, VERIFY);
    for (let i = 0; i < toVerify.length; i += 8) {
      await Promise.all(
        toVerify.slice(i, i + 8).map(async (j) => {
          const r = j.result!;
          const etag = r.etag.replace(/"/g, '');
          j.verified = r.size === j.size && etag === (await fileEtag(j.file, j.size, r.chunk_size)) && (await sha256Object(s3!, r.file_path)) === j.sha256;
        }),
      );
    }
    const mismatched = toVerify.filter((j) => !j.verified);
    say(`read back ${toVerify.length} objects in ${((performance.now() - tv) / 1000).toFixed(1)} s: ${toVerify.length - mismatched.length} ETag and SHA-256 match, ${mismatched.length} mismatches`);

    const routes = summarise();
    const fmt = (ms: number) => ms.toFixed(ms < 10 ? 1 : 0).padStart(7);
    console.log(`\nat the client (request start to end of response, retries counted one by one):`);
    console.log(`${'route'.padEnd(34)} ${'count'.padStart(6)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}  statuses`);
    for (const r of routes) {
      console.log(`${r.route.padEnd(34)} ${String(r.count).padStart(6)} ${fmt(r.p50)} ${fmt(r.p95)} ${fmt(r.p99)} ${fmt(r.max)}  ${JSON.stringify(r.statuses)}`);
    }
    const atGateway = gatewayLog ? gatewayStats(gatewayLog, gatewayLogFrom) : [];
    if (atGateway.length) {
      console.log(`\nat the gateway (request in to response out, ${gatewayLog}):`);
      for (const r of atGateway) {
        console.log(`${r.route.padEnd(34)} ${String(r.count).padStart(6)} ${fmt(r.p50)} ${fmt(r.p95)} ${fmt(r.p99)} ${fmt(r.max)}  ${JSON.stringify(r.statuses)}`);
      }
    } else {
      console.log('\n(gateway log not found: client-side latencies only)');
    }
    const durations = ok.map((j) => j.result!.duration_ms).sort((a, b) => a - b);
    const total5xx = routes.reduce((n, r) => n + r.errors5xx, 0);
    const totalNet = routes.reduce((n, r) => n + r.networkErrors, 0);
    const putAttempts = routes.find((r) => r.route === 'S3 PUT part')?.count ?? 0;
    const extraPuts = putAttempts - ok.reduce((n, j) => n + j.result!.parts_sent, 0);
    console.log(
      `\nuploads ${ok.length}/${UPLOADS} ok, ${(totalBytes / MiB).toFixed(0)} MiB in ${(wallMs / 1000).toFixed(1)} s; ` +
        `upload duration p50 ${(percentile(durations, 50) / 1000).toFixed(1)} s, p95 ${(percentile(durations, 95) / 1000).toFixed(1)} s; ` +
        `5xx ${total5xx}, network errors ${totalNet}, extra PUT attempts ${Math.max(0, extraPuts)}`,
    );
    for (const j of jobs.filter((x) => x.error)) console.log(`FAILED upload ${j.index} (${j.owner.name}): ${j.error}`);

    const summary = {
      uploads: UPLOADS,
      owners: owners.map((o) => o.name),
      concurrency_per_upload: CONCURRENCY,
      chunk_size: CHUNK,
      bytes: totalBytes,
      wall_ms: Math.round(wallMs),
      mib_per_s: Number((totalBytes / MiB / (wallMs / 1000)).toFixed(1)),
      ok: ok.length,
      failed: jobs.filter((j) => j.error).map((j) => ({ index: j.index, owner: j.owner.name, error: j.error })),
      verified: toVerify.length - mismatched.length,
      mismatched: mismatched.map((j) => j.index),
      upload_ms: { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations[durations.length - 1] },
      routes,
      gateway_routes: atGateway,
      errors_5xx: total5xx,
      network_errors: totalNet,
    };
    if (args.json) writeFileSync(args.json, `${JSON.stringify(summary, null, 2)}\n`);

    if (!args.keep) {
      const keys = ok.map((j) => /^s3:\/\/[^/]+\/(.+)$/.exec(j.result!.file_path)![1]!);
      for (let i = 0; i < keys.length; i += 1000) {
        await s3.send(new DeleteObjectsCommand({ Bucket: e.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
      }
    }
    const failed = ok.length !== UPLOADS || mismatched.length > 0 || total5xx > 0;
    say(failed ? 'FAILED' : 'ok: every upload completed and verified, no 5xx');
    return failed ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`load: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
