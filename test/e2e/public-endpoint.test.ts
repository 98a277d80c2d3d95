/**
 * `npm run local -- --s3-public-endpoint URL`: a local cloud of its own (local/main.ts, the command
 * itself) whose handlers presign part URLs for a TCP forwarder in front of its RGW, as they would
 * for a proxy or a CDN. Init's and /parts' URLs name the forwarder's origin, an upload through it
 * completes into the stored object, and the forwarder carried the part bytes. A bad URL is refused
 * before anything starts. Local cloud only (a deployed stack has its own origin).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jest } from '@jest/globals';
import type { InitResponse } from '../../contract/api.js';
import { MiB } from '../../contract/limits.js';
import type { LocalEndpoints } from '../../local/endpoints.js';
import { freePort } from '../../local/procs.js';
import { call } from './helpers/api.js';
import { s3Client, type E2ETarget } from './helpers/cloud.js';
import { startForwarder, type Forwarder } from './helpers/forwarder.js';
import { describeLocalCloud, targetOf } from './helpers/private-cloud.js';
import { ROOT, waitUntil } from './helpers/procs.js';
import { sha256Object } from './helpers/storage.js';

jest.setTimeout(120_000);

/** A cold synth of the stack with this origin in it takes up to ~100 s on 2 busy cores. */
const START_TIMEOUT_MS = 300_000;
const TSX = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;

interface Started {
  child: ChildProcess;
  out: { text: string };
  exited: Promise<number | null>;
}

/** `local/main.ts` with `args`, as `npm run local -- args` runs it; the pipe on stdin is its lifeline. */
function runLocal(args: string[]): Started {
  const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'local', 'main.ts'), '--lifeline', ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const out = { text: '' };
  child.stdout!.on('data', (b: Buffer) => (out.text += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out.text += b.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      // Our ends of its pipes would keep Jest alive after the run.
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve(code);
    }),
  );
  return { child, out, exited };
}

let work: string;
let fwd: Forwarder;
let local: Started | undefined;
let endpoints: LocalEndpoints;
let t: E2ETarget;

describeLocalCloud('npm run local -- --s3-public-endpoint', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mpu-public-endpoint-'));
    fwd = await startForwarder();
    const endpointsFile = join(work, 'endpoints.json');
    // A web port of its own: the default one (8790) may be taken by a cloud starting at the same moment.
    const webPort = String(await freePort());
    local = runLocal(['--s3-public-endpoint', fwd.url, '--endpoints-file', endpointsFile, '--memstore-bytes', '1GiB', '--web-port', webPort]);
    const started = local;
    let exitCode: number | null | undefined;
    void started.exited.then((c) => (exitCode = c));
    await waitUntil(() => exitCode !== undefined || started.out.text.includes('Local cloud is up'), 'the local cloud to start', START_TIMEOUT_MS, 200);
    if (exitCode !== undefined) throw new Error(`npm run local exited (${exitCode}):\n${started.out.text.slice(-4000)}`);
    endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as LocalEndpoints;
    // Now that RGW has an address, the forwarder forwards to it.
    fwd.setTarget(endpoints.s3_endpoint);
    t = targetOf(endpoints, endpointsFile);
  }, START_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    if (local && local.child.exitCode === null) {
      local.child.kill('SIGTERM');
      await Promise.race([local.exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
      if (local.child.exitCode === null) local.child.kill('SIGKILL');
    }
    await fwd?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  test('the start-up summary names the origin part URLs are signed for', () => {
    expect(local!.out.text).toContain(`Part URLs       ${fwd.url} (--s3-public-endpoint: it must forward to ${endpoints.s3_endpoint})`);
    expect(fwd.url).not.toBe(endpoints.s3_endpoint);
  });

  test('init and /parts answer URLs for the forwarder; an upload through it completes, and the forwarder carried the bytes', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_457)];
    const file = Buffer.concat(parts);
    const init = await call(t, 'POST', '/upload/init', { json: { filename: 'through-the-forwarder.bin', file_size: file.length } });
    expect(init.status).toBe(201);
    const session = init.body as InitResponse;
    expect(session.parts.map((p) => p.part_number)).toEqual([1, 2, 3]);
    for (const p of session.parts) {
      const url = new URL(p.url);
      // Path-style for the forwarder's origin: the bucket is the first path segment.
      expect({ part: p.part_number, origin: url.origin, bucket: url.pathname.split('/')[1] }).toEqual({ part: p.part_number, origin: fwd.url, bucket: endpoints.bucket });
    }
    const resigned = await call(t, 'POST', `/upload/${session.session_id}/parts`, { json: { parts: [{ part_number: 3 }] } });
    expect(resigned.status).toBe(200);
    const part3 = (resigned.body as { parts: { url: string }[] }).parts[0]!;
    expect(new URL(part3.url).origin).toBe(fwd.url);

    const before = fwd.stats.bytesUp;
    const urls = [session.parts[0]!.url, session.parts[1]!.url, part3.url];
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const res = await fetch(urls[i]!, { method: 'PUT', body });
      expect({ part: i + 1, status: res.status }).toEqual({ part: i + 1, status: 200 });
      await res.arrayBuffer();
      etags.push(res.headers.get('etag') ?? '');
    }
    expect(etags.map((e) => e.replaceAll('"', ''))).toEqual(parts.map((p) => createHash('md5').update(p).digest('hex')));
    // Every part byte went through the forwarder (plus request lines and headers).
    expect(fwd.stats.bytesUp - before).toBeGreaterThanOrEqual(file.length);
    const puts = fwd.stats.requestLines.filter((l) => l.startsWith(`PUT /${endpoints.bucket}/`));
    expect(puts.map((l) => new URL(l.slice(4), 'http://x').searchParams.get('partNumber'))).toEqual(['1', '2', '3']);

    const complete = await call(t, 'POST', `/upload/${session.session_id}/complete`, { json: {} });
    expect(complete.status).toBe(200);
    expect(complete.body).toMatchObject({ status: 'completed', size: file.length });
    // The object in RGW (read directly, not through the forwarder) is the file.
    const key = (complete.body as { file_path: string }).file_path.replace(`s3://${endpoints.bucket}/`, '');
    const s3 = s3Client(t);
    try {
      expect(await sha256Object(s3, endpoints.bucket, key)).toBe(createHash('sha256').update(file).digest('hex'));
    } finally {
      s3.destroy();
    }
  });

  test('a URL that is not an origin is refused before anything starts', async () => {
    for (const [arg, why] of [
      ['not a url', /not a URL/],
      ['ftp://127.0.0.1:21', /ftp: is not http: or https:/],
      ['http://127.0.0.1:9000/bucket', /an origin only/],
    ] as const) {
      const bad = runLocal(['--s3-public-endpoint', arg, '--endpoints-file', join(work, 'never.json')]);
      const code = await bad.exited;
      expect({ arg, code, refused: why.test(bad.out.text), started: bad.out.text.includes('[local]') }).toEqual({ arg, code: 1, refused: true, started: false });
    }
  });
});
