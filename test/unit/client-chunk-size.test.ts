/**
 * The client's chunk size for files above 10,000 x 5 MiB (issue 9, defect 2), on a sparse 60 GiB
 * file (no bytes written): without a chunk size the server's rule plans it; a too-small explicit
 * one is refused before init, naming the size that fits.
 */
import { closeSync, mkdtempSync, openSync, rmSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { InitRequest, InitResponse } from '../../contract/api.js';
import { GiB, MiB, S3_LIMITS } from '../../contract/limits.js';
import { checkInit } from '../../lambdas/core/validation.js';
import { InterruptedError, UsageError } from '../../client/errors.js';
import { formatSizeArg, parseSize } from '../../client/sizes.js';
import { runUpload, type UploadApi, type UploadEvent } from '../../client/upload.js';
import { runCliCaptured } from './helpers/run-cli.js';

const SIZE = 60 * GiB;
let dir: string;
let sparse: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-chunk-'));
  sparse = join(dir, 'sparse-60g.bin');
  const fd = openSync(sparse, 'w');
  ftruncateSync(fd, SIZE);
  closeSync(fd);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An API whose init plans by the server's own validation; nothing else may be called. */
function serverPlannedApi(): { api: UploadApi; inits: InitRequest[] } {
  const inits: InitRequest[] = [];
  const unexpected = () => Promise.reject(new Error('only init was expected'));
  const api: UploadApi = {
    init: async (req) => {
      inits.push(req);
      const plan = checkInit(req, { minPartSize: S3_LIMITS.minPartSize, maxFileSize: S3_LIMITS.maxObjectSize, defaultChunkSize: 5 * MiB }).plan!;
      const res: InitResponse = {
        session_id: 'AAAAAAAAAAAAAAAAAAAAAA',
        total_parts: plan.totalParts,
        chunk_size: plan.chunkSize,
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
        url_expires_in: 900,
        parts: [],
      };
      return res;
    },
    partUrls: unexpected,
    status: unexpected,
    complete: unexpected,
  };
  return { api, inits };
}

const noPut = () => Promise.reject(new Error('no part may be sent'));

test('no chunk size: init carries none, and the session is planned at the smallest whole MiB that fits', async () => {
  const { api, inits } = serverPlannedApi();
  const stop = new AbortController();
  const events: UploadEvent[] = [];
  const err = await runUpload(
    {
      file: sparse,
      apiUrl: 'http://fake.invalid',
      signal: stop.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'session') stop.abort();
      },
    },
    { api, transport: { put: noPut } },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(inits).toHaveLength(1);
  expect(inits[0]).not.toHaveProperty('chunk_size');
  expect(events[0]).toMatchObject({ type: 'session', file_size: SIZE, chunk_size: 8 * MiB, total_parts: 7680 });
});

test('a chunk size too small for 10,000 parts is refused before init, naming the size that fits', async () => {
  const { api, inits } = serverPlannedApi();
  const err = await runUpload(
    { file: sparse, apiUrl: 'http://fake.invalid', chunkSize: 5 * MiB },
    { api, transport: { put: noPut } },
  ).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).message).toBe(
    'chunk size 5MiB splits the file (60.0 GiB) into 12288 parts; S3 allows 10,000. ' +
      'Use a chunk size of at least 7MiB, or none to have it chosen',
  );
  expect(inits).toHaveLength(0);
});

test('mpu upload --chunk-size too small: usage error (exit 2) naming the --chunk-size that fits, no request sent', async () => {
  // Port 9 (discard) on loopback: a request would fail as unreachable (exit 5), not as usage.
  const r = await runCliCaptured(
    ['upload', sparse, '--chunk-size', '5MiB', '--api', 'http://127.0.0.1:9', '--retries', '1', '--no-state', '--no-progress'],
    {},
    dir,
  );
  expect(r.stderr).toContain('Use a chunk size of at least 7MiB');
  expect(r.code).toBe(2);
});

test('the size named in that message reads back as the same number of bytes', () => {
  expect([formatSizeArg(7 * MiB), formatSizeArg(525 * MiB), formatSizeArg(5 * MiB + 1), formatSizeArg(0)]).toEqual(['7MiB', '525MiB', '5242881', '0']);
  fc.assert(fc.property(fc.integer({ min: 0, max: S3_LIMITS.maxPartSize }), (n) => parseSize(formatSizeArg(n)) === n));
});
