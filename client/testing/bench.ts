/**
 * Throughput benchmark of the client against a running local cloud (dev tool, not a test):
 *   tsx client/testing/bench.ts [--size 64MiB] [--chunk 5MiB] [--concurrency 4] [--rounds 3]
 * Compares, on the same file: one raw presigned PutObject of the whole file (bytes already in
 * memory: the upper bound), the storage's multipart floor (same parts straight from memory, no
 * hashing, no API), `mpu` (the library, in process), and @aws-sdk/lib-storage Upload at the same
 * part size and concurrency. Reads endpoints from MPU_ENDPOINTS_FILE or .local/endpoints.json.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { request } from 'undici';
import { ApiClient } from '../api-client.js';
import { findEndpointsFile } from '../config.js';
import { createDispatcher } from '../http.js';
import { putPart } from '../put-part.js';
import { parseSize } from '../sizes.js';
import { runUpload } from '../upload.js';

const { values } = parseArgs({
  options: { size: { type: 'string', default: '64MiB' }, chunk: { type: 'string', default: '5MiB' }, concurrency: { type: 'string', default: '4' }, rounds: { type: 'string', default: '3' } },
});
const size = parseSize(values.size!);
const chunk = parseSize(values.chunk!);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const epFile = process.env.MPU_ENDPOINTS_FILE || findEndpointsFile(process.cwd());
if (!epFile) throw new Error('no endpoints file: start the local cloud (npm run local)');
const ep = JSON.parse(readFileSync(epFile, 'utf8')) as Record<string, string>;
const s3 = new S3Client({
  region: ep.region,
  endpoint: ep.s3_endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: ep.access_key_id!, secretAccessKey: ep.secret_access_key! },
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

const dir = mkdtempSync(join(tmpdir(), 'mpu-bench-'));
const file = join(dir, 'bench.bin');
writeFileSync(file, randomBytes(size));
const MiB = 1024 * 1024;
// The local cloud keeps objects in RAM: delete what each run stored.
const drop = (bucket: string, key: string) => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).then(() => undefined);
const mibps = (ms: number) => size / MiB / (ms / 1000);

async function raw(): Promise<number> {
  const body = readFileSync(file);
  const key = `bench/raw-${Date.now()}`;
  const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: ep.bucket, Key: key }), { expiresIn: 600 });
  const t = performance.now();
  const res = await request(url, { method: 'PUT', body, headers: { 'content-length': String(body.length) } });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`raw PUT: ${res.statusCode}`);
  const ms = performance.now() - t;
  await drop(ep.bucket!, key);
  return ms;
}

/**
 * The storage's own multipart floor: CreateMultipartUpload, presigned part PUTs from memory at
 * the same part size and concurrency (no hashing, no API), CompleteMultipartUpload.
 */
async function multipartFloor(): Promise<number> {
  const body = readFileSync(file);
  const key = `bench/mp-${Date.now()}`;
  const dispatcher = createDispatcher({ connections: concurrency });
  const t = performance.now();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: ep.bucket, Key: key }));
  const total = Math.ceil(size / chunk);
  const etags: string[] = [];
  let next = 1;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let n = next++; n <= total; n = next++) {
        const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket: ep.bucket, Key: key, UploadId, PartNumber: n }), { expiresIn: 600 });
        const part = body.subarray((n - 1) * chunk, Math.min(size, n * chunk));
        const res = await request(url, { method: 'PUT', body: part, headers: { 'content-length': String(part.length) }, dispatcher });
        await res.body.dump();
        etags[n - 1] = String(res.headers.etag);
      }
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: ep.bucket, Key: key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
  );
  const ms = performance.now() - t;
  await dispatcher.close();
  await drop(ep.bucket!, key);
  return ms;
}

async function mpu(): Promise<number> {
  const dispatcher = createDispatcher({ connections: concurrency + 2 });
  const api = new ApiClient({ baseUrl: ep.api_url!, dispatcher, token: ep.token });
  // Local RGW answers CompleteMultipartUpload with an empty ETag; fill it in from HeadObject.
  const complete: typeof api.complete = async (...a) => {
    const r = await api.complete(...a);
    if (r.etag) return r;
    const [, , bucket, ...key] = r.file_path.split('/');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key.join('/') }));
    return { ...r, etag: head.ETag ?? '' };
  };
  const t = performance.now();
  const r = await runUpload(
    { file, apiUrl: ep.api_url!, chunkSize: chunk, concurrency, hashThread: process.env.HASH_THREAD === 'worker' ? 'worker' : 'main' },
    { api: { init: api.init.bind(api), partUrls: api.partUrls.bind(api), status: api.status.bind(api), complete }, put: putPart, dispatcher },
  );
  const ms = performance.now() - t;
  if (process.env.BENCH_VERBOSE) console.log('mpu timings', r.timings);
  await dispatcher.close();
  const [, , bucket, ...key] = r.file_path.split('/');
  await drop(bucket!, key.join('/'));
  return ms;
}

async function libStorage(): Promise<number> {
  const t = performance.now();
  const key = `bench/lib-${Date.now()}`;
  await new Upload({
    client: s3,
    params: { Bucket: ep.bucket, Key: key, Body: createReadStream(file) },
    partSize: chunk,
    queueSize: concurrency,
  }).done();
  const ms = performance.now() - t;
  await drop(ep.bucket!, key);
  return ms;
}

const results: Record<string, number[]> = { raw: [], 'mp-floor': [], mpu: [], 'lib-storage': [] };
await mpu(); // warm up connections, JIT and the server
for (let i = 0; i < rounds; i++) {
  results.raw!.push(await raw());
  results['mp-floor']!.push(await multipartFloor());
  results.mpu!.push(await mpu());
  results['lib-storage']!.push(await libStorage());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, mibps(median(v))]));
for (const [k, v] of Object.entries(results)) {
  console.log(`${k.padEnd(12)} median ${mibps(median(v)).toFixed(1)} MiB/s  (${v.map((x) => mibps(x).toFixed(0)).join(', ')})`);
}
console.log(`mpu/raw ${(m.mpu! / m.raw!).toFixed(2)}x   mpu/mp-floor ${(m.mpu! / m['mp-floor']!).toFixed(2)}x   mpu/lib-storage ${(m.mpu! / m['lib-storage']!).toFixed(2)}x   (${values.size}, parts ${values.chunk}, concurrency ${concurrency})`);
rmSync(dir, { recursive: true, force: true });
