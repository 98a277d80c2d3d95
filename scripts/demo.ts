/**
 * `npm run demo`: the main job, end to end on the local cloud.
 * Starts the local cloud (or reuses a running `npm run local`), writes a 100 MiB random file,
 * starts `mpu upload`, SIGKILLs it midway, re-runs the same command (which resumes on its own),
 * then reads the stored object back and compares its SHA-256 with the file's. The resume must
 * send exactly the parts storage lacked when it began (see demo-check.ts). Prints timings.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { UploadResult } from '../client/index.js';
import type { StatusResponse } from '../contract/api.js';
import { MiB } from '../contract/limits.js';
import { routePath } from '../contract/routes.js';
import { PROJECT_ROOT, startLocalCloud, type LocalCloud } from '../local/cloud.js';
import { checkDependencies, formatProblems } from '../local/deps.js';
import { defaultEndpointsFile, endpointsAnswer, readEndpointsFile, type LocalEndpoints } from '../local/endpoints.js';
import { localS3Client } from '../local/resources.js';
import { checkDemo } from './demo-check.js';
import { writeRandomFile } from './random-file.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '100' },
    'kill-at': { type: 'string', default: '0.5' },
    // The first run is paced so the kill lands midway however fast or loaded the machine is:
    // unpaced, 100 MiB on loopback takes about a second, and a busy machine's status polling
    // could see the upload finish before it is killed. Four fixed workers, not the adaptive default
    // (which starts at 8 or more and would send that many of the 20 parts together), so parts land one by one.
    'first-run-rate': { type: 'string', default: '32MiB' },
  },
});
const SIZE = Number(args.size) * MiB;
const KILL_AT = Number(args['kill-at']);
const MPU = join(PROJECT_ROOT, 'client/bin/mpu.mjs');

const t0 = performance.now();
const timings: [string, number][] = [];
function step<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  return work().then((v) => {
    timings.push([label, performance.now() - start]);
    return v;
  });
}
const say = (line: string) => console.log(`demo: ${line}`);
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function status(api: string, sessionId: string): Promise<StatusResponse> {
  const token = process.env.MPU_TOKEN;
  const res = await fetch(api + routePath('status', { session_id: sessionId }), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return (await res.json()) as StatusResponse;
}

/** Runs `mpu upload`, and SIGKILLs it once storage holds `killAt` of the parts. */
async function uploadAndKill(api: string, file: string, stateDir: string, killAt: number) {
  const child = spawn(
    process.execPath,
    [MPU, 'upload', file, '--api', api, '--state-dir', stateDir, '--no-progress', '--concurrency', '4', '--limit-rate', String(args['first-run-rate'])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let sessionId: string | undefined;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    sessionId ??= /session ([A-Za-z0-9_-]{22})/.exec(stderr)?.[1];
  });
  const exited = once(child, 'exit');
  let stored = 0;
  let total = 0;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mpu finished before it could be killed:\n${stderr}`);
    if (sessionId) {
      const st = await status(api, sessionId);
      stored = st.completed_parts.length;
      total = st.total_parts ?? 0;
      if (stored >= Math.ceil(total * killAt)) break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
  const after = await status(api, sessionId!);
  return { sessionId: sessionId!, storedAtKill: after.completed_parts.length, total, bytesStored: after.bytes_uploaded };
}

/** One `mpu upload --json` result line: the library's result plus `ok`. */
type UploadJson = UploadResult & { ok: boolean };

async function resume(api: string, file: string, stateDir: string): Promise<UploadJson> {
  // The same command as the first run: the client finds its interrupted session by itself.
  const child = spawn(process.execPath, [MPU, 'upload', file, '--api', api, '--state-dir', stateDir, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  if (code !== 0) throw new Error(`mpu upload (resume) exited with ${code}: ${stdout}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as UploadJson;
}

async function main(): Promise<number> {
  const problems = await checkDependencies();
  if (problems.length) {
    console.error(formatProblems(problems));
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), 'mpu-demo-'));
  let cloud: LocalCloud | undefined;
  try {
    let endpoints: LocalEndpoints;
    const running = defaultEndpointsFile(PROJECT_ROOT);
    if (existsSync(running) && (await endpointsAnswer(readEndpointsFile(running)))) {
      endpoints = readEndpointsFile(running);
      say(`using the running local cloud at ${endpoints.api_url}`);
    } else {
      say('starting the local cloud (Ceph RGW, DynamoDB Local, API gateway)...');
      cloud = await step('start local cloud', () => startLocalCloud({ endpointsFile: false }));
      endpoints = cloud.endpoints;
      say(`API ${endpoints.api_url}, S3 ${endpoints.s3_endpoint}, DynamoDB ${endpoints.dynamodb_endpoint}`);
    }

    // The CLI runs are given the API by --api; their token comes from the environment.
    if (endpoints.token) process.env.MPU_TOKEN = endpoints.token;

    const file = join(work, 'random-100MiB.bin');
    const fileHash = await step('write random file', () => writeRandomFile(file, SIZE));
    say(`wrote ${SIZE / MiB} MiB of random bytes, SHA-256 ${fileHash}`);

    const stateDir = join(work, 'state');
    say(`mpu upload ${file} (5 MiB parts, 4 workers); it will be killed with SIGKILL midway`);
    const killed = await step('upload until SIGKILL', () => uploadAndKill(endpoints.api_url, file, stateDir, KILL_AT));
    say(
      `killed: storage holds ${killed.storedAtKill}/${killed.total} parts (${(killed.bytesStored / MiB).toFixed(0)} MiB) of session ${killed.sessionId}`,
    );

    say(`mpu upload ${file} again: it resumes by itself`);
    const result = await step('resume and complete', () => resume(endpoints.api_url, file, stateDir));
    say(
      `resumed session ${result.session_id}: storage held ${result.parts_already_stored}/${result.parts_total} parts when it began ` +
        `(${result.parts_already_stored - killed.storedAtKill} landed after the kill); sent ${result.parts_sent} parts ` +
        `(${(result.bytes_sent / MiB).toFixed(1)} MiB); completed ${result.file_path} (ETag ${result.etag})`,
    );

    const [, , bucket, ...key] = result.file_path.split('/');
    const stored = await step('read back and hash', async () => {
      const s3 = localS3Client(endpoints.s3_endpoint, endpoints.region, {
        accessKeyId: endpoints.access_key_id,
        secretAccessKey: endpoints.secret_access_key,
      });
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') }));
      return sha256Of(out.Body as Readable);
    });
    const sameSession = result.session_id === killed.sessionId;
    const verdict = checkDemo({
      total: killed.total,
      storedAtKill: killed.storedAtKill,
      storedAtResumeStart: result.parts_already_stored,
      partsSent: result.parts_sent,
      sameSession,
      resumed: result.resumed,
      hashesMatch: stored === fileHash,
    });
    const ok = verdict.ok;
    say(`stored object SHA-256 ${stored} ${stored === fileHash ? '== file: verified' : '!= file: CORRUPT'}`);
    for (const p of verdict.problems) say(`problem: ${p}`);

    console.log('\ntimings');
    for (const [label, ms] of timings) console.log(`  ${label.padEnd(24)} ${sec(ms).padStart(9)}`);
    console.log(`  ${'total'.padEnd(24)} ${sec(performance.now() - t0).padStart(9)}`);
    console.log(
      `\n${ok ? 'OK' : 'FAILED'}: ${SIZE / MiB} MiB uploaded, killed at ${killed.storedAtKill}/${killed.total} parts, ` +
        `resumed in the same session (${sameSession}) sending only the missing parts (${verdict.onlyMissing}), SHA-256 verified (${stored === fileHash})`,
    );
    return ok ? 0 : 1;
  } finally {
    await cloud?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`demo: failed: ${e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
  },
);
