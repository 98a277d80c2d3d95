/**
 * Handler durations for the scale model (ops/scale-model.ts), measured against a running local
 * cloud: `npx tsx ops/scale-measure.ts [endpoints.json] [--rounds N]`.
 *
 * Per round, sequentially (the local Lambda service runs concurrent invocations of one function in
 * one worker, so overlapping calls would measure queueing): init of a 1 GiB session (205 parts,
 * 100 URLs signed), /parts for its parts 101..205 (105 URLs), abort; then a 64 MiB upload (13
 * parts PUT to RGW) with init, /parts for one part, status and complete. Each API call is timed
 * at the client: gateway, authorizer (the local cloud's cache TTL, 0 by default: one authorizer
 * invocation per call) and handler together. The first round is warm-up (cold starts) and not
 * counted; each completed object is deleted. `authorizer` is a call with a well-formed unknown token: gateway and authorizer only
 * (403). Prints one JSON object: per route the median and 90th percentile in ms.
 */
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { GiB, MiB } from '../contract/limits.js';
import { defaultEndpointsFile, readEndpointsFile, type LocalEndpoints } from '../local/endpoints.js';
import { PROJECT_ROOT } from '../local/cloud.js';
import { localS3Client } from '../local/resources.js';

type Route = 'init' | 'parts' | 'status' | 'complete' | 'abort' | 'authorizer';

/** The fields of the answers this script reads (init, parts, status, complete, abort). */
interface Answer {
  session_id: string;
  file_path: string;
  total_parts: number;
  chunk_size: number;
  parts: { part_number: number; url: string }[];
}

interface Timed {
  status: number;
  body: Answer;
  ms: number;
}

async function api(e: LocalEndpoints, method: string, path: string, json?: unknown, token = e.token ?? ''): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(`${e.api_url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer, ms };
}

function expectStatus(r: Timed, want: number, what: string): Timed {
  if (r.status !== want) throw new Error(`${what}: expected ${want}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A well-formed token nobody made: the authorizer looks it up and refuses it (403), no handler runs. */
const UNKNOWN_TOKEN = `mpu_${'a'.repeat(12)}_${'b'.repeat(43)}`;

async function round(e: LocalEndpoints, record: (route: Route, ms: number) => void): Promise<void> {
  record('authorizer', expectStatus(await api(e, 'GET', '/upload/AAAAAAAAAAAAAAAAAAAAAA/status', undefined, UNKNOWN_TOKEN), 403, 'unknown token').ms);
  // A 1 GiB session: init signs 100 URLs, /parts the other 105; no bytes are sent.
  const big = expectStatus(await api(e, 'POST', '/upload/init', { filename: 'scale-1gib.bin', file_size: GiB }), 201, 'init 1 GiB');
  record('init', big.ms);
  const rest = Array.from({ length: big.body.total_parts - 100 }, (_, i) => ({ part_number: 101 + i }));
  record('parts', expectStatus(await api(e, 'POST', `/upload/${big.body.session_id}/parts`, { parts: rest }), 200, 'parts').ms);
  record('abort', expectStatus(await api(e, 'DELETE', `/upload/${big.body.session_id}`), 200, 'abort').ms);

  // A 64 MiB upload, completed: complete lists and assembles 13 parts.
  const size = 64 * MiB;
  const small = expectStatus(await api(e, 'POST', '/upload/init', { filename: 'scale-64mib.bin', file_size: size }), 201, 'init 64 MiB');
  record('init', small.ms);
  const chunk = small.body.chunk_size;
  const body = randomBytes(chunk);
  await Promise.all(
    small.body.parts.map(async (p) => {
      const len = Math.min(chunk, size - (p.part_number - 1) * chunk);
      const res = await fetch(p.url, { method: 'PUT', body: body.subarray(0, len) });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`part ${p.part_number}: ${res.status}`);
    }),
  );
  record('parts', expectStatus(await api(e, 'POST', `/upload/${small.body.session_id}/parts`, { parts: [{ part_number: 13 }] }), 200, 'parts').ms);
  record('status', expectStatus(await api(e, 'GET', `/upload/${small.body.session_id}/status`), 200, 'status').ms);
  const done = expectStatus(await api(e, 'POST', `/upload/${small.body.session_id}/complete`, {}), 200, 'complete');
  record('complete', done.ms);
  // Not kept: the local cloud's memstore is small.
  const s3 = localS3Client(e.s3_endpoint, e.region, { accessKeyId: e.access_key_id, secretAccessKey: e.secret_access_key });
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: e.bucket, Key: done.body.file_path.replace(`s3://${e.bucket}/`, '') }));
  } finally {
    s3.destroy();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { rounds: { type: 'string' } }, allowPositionals: true });
  const e = readEndpointsFile(positionals[0] ?? defaultEndpointsFile(PROJECT_ROOT));
  const rounds = Number(values.rounds ?? 15);
  const samples: Record<Route, number[]> = { init: [], parts: [], status: [], complete: [], abort: [], authorizer: [] };
  await round(e, () => undefined);
  for (let i = 0; i < rounds; i++) await round(e, (route, ms) => samples[route].push(ms));
  const out = Object.fromEntries(
    Object.entries(samples).map(([route, xs]) => {
      const s = [...xs].sort((a, b) => a - b);
      return [route, { n: s.length, medianMs: Math.round(quantile(s, 0.5)), p90Ms: Math.round(quantile(s, 0.9)) }];
    }),
  );
  console.log(JSON.stringify({ rounds, measuredAt: new Date().toISOString(), routes: out }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
