import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runUploadWithState } from '../../client/auto-resume.js';
import { FileMismatchError, InterruptedError } from '../../client/errors.js';
import { fingerprint, sameFingerprint, StateStore, type StateEntry } from '../../client/state.js';
import type { UploadEvent, UploadOptions } from '../../client/upload.js';
import { FakeCloud } from '../../client/testing/fake-cloud.js';

const CHUNK = 64 * 1024;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprint', () => {
  test('stable for an unchanged file; size, mtime and sampled content all count', async () => {
    const path = join(dir, 'fp.bin');
    const data = randomBytes(4 * 1024 * 1024);
    writeFileSync(path, data);
    const t = new Date('2026-01-01T00:00:00Z');
    utimesSync(path, t, t);
    const a = await fingerprint(path);
    expect(sameFingerprint(a, await fingerprint(path))).toBe(true);

    data[2 * 1024 * 1024 + 5]! ^= 1; // inside the middle sample
    writeFileSync(path, data);
    utimesSync(path, t, t);
    const b = await fingerprint(path);
    expect(b.mtime_ms).toBe(a.mtime_ms);
    expect(sameFingerprint(a, b)).toBe(false);

    utimesSync(path, t, new Date('2026-01-02T00:00:00Z'));
    expect((await fingerprint(path)).mtime_ms).not.toBe(b.mtime_ms);
  });

  test('small files are hashed whole', async () => {
    const path = join(dir, 'small.bin');
    const data = randomBytes(100_000);
    writeFileSync(path, data);
    const t = new Date('2026-01-01T00:00:00Z');
    utimesSync(path, t, t);
    const a = await fingerprint(path);
    data[70_000]! ^= 1;
    writeFileSync(path, data);
    utimesSync(path, t, t);
    expect(sameFingerprint(a, await fingerprint(path))).toBe(false);
  });
});

describe('StateStore', () => {
  const entry = (session: string, path: string, api = 'http://api/'): StateEntry => ({
    version: 1, session_id: session, api_url: api, path, size: 1, mtime_ms: 1, sample_sha256: 'x', chunk_size: 5, total_parts: 1,
    created_at: new Date().toISOString(), updated_at: new Date().toISOString(),
  });

  test('one entry per API and path; list, delete, deleteSession; damaged files ignored', () => {
    const store = new StateStore(join(dir, 'store'));
    expect(store.list()).toEqual([]);
    store.put(entry('A', '/f1'));
    store.put(entry('B', '/f2'));
    store.put(entry('C', '/f1', 'http://other'));
    expect(store.get('http://api', '/f1')?.session_id).toBe('A'); // trailing slash does not matter
    store.put(entry('A2', '/f1'));
    expect(store.get('http://api/', '/f1')?.session_id).toBe('A2');
    expect(store.list().map((e) => e.session_id).sort()).toEqual(['A2', 'B', 'C']);
    writeFileSync(join(store.dir, 'junk.json'), '{not json');
    expect(store.list()).toHaveLength(3);
    expect(store.deleteSession('B')).toBe(true);
    store.delete('http://other', '/f1');
    expect(store.list().map((e) => e.session_id)).toEqual(['A2']);
  });
});

describe('automatic resume', () => {
  function setup(name: string, size = 6 * CHUNK) {
    const cloud = new FakeCloud();
    const path = join(dir, name);
    const data = randomBytes(size);
    writeFileSync(path, data);
    const stateDir = join(dir, `state-${name}`);
    const events: UploadEvent[] = [];
    const run = (o: Partial<UploadOptions> = {}) =>
      runUploadWithState(
        { file: path, apiUrl: 'http://fake.invalid', chunkSize: CHUNK, concurrency: 1, stateDir, retry: { baseDelayMs: 1, maxDelayMs: 1 }, onEvent: (e) => events.push(e), ...o },
        { api: cloud.api, transport: cloud.transport },
      );
    const interrupt = async (afterParts: number) => {
      const stop = new AbortController();
      cloud.afterPut = () => {
        if (cloud.stats.puts >= afterParts) stop.abort();
      };
      const err = await run({ signal: stop.signal }).catch((e: unknown) => e);
      cloud.afterPut = () => undefined;
      expect(err).toBeInstanceOf(InterruptedError);
      return (err as InterruptedError).sessionId!;
    };
    return { cloud, path, data, stateDir, events, run, interrupt, store: new StateStore(stateDir) };
  }

  test('an interrupted upload is remembered and resumed by the next run, then forgotten', async () => {
    const t = setup('auto.bin');
    const sid = await t.interrupt(2);
    expect(t.store.list()).toMatchObject([{ session_id: sid, path: t.path, total_parts: 6 }]);
    const r = await t.run();
    expect(r).toMatchObject({ session_id: sid, resumed: true, parts_sent: 4 });
    expect(t.events.find((e) => e.type === 'auto_resume')).toMatchObject({ session_id: sid });
    expect(t.store.list()).toEqual([]);
  });

  test('a changed file is refused until --restart, which starts a new session', async () => {
    const t = setup('changed.bin');
    const sid = await t.interrupt(1);
    t.data[0]! ^= 1;
    writeFileSync(t.path, t.data);
    const err = await t.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileMismatchError);
    expect((err as Error).message).toMatch(/changed since its interrupted upload .*--restart/);
    const r = await t.run({ restart: true });
    expect(r.session_id).not.toBe(sid);
    expect(r.parts_sent).toBe(6);
    expect(t.events.find((e) => e.type === 'restart')).toMatchObject({ previous_session_id: sid });
  });

  test('a remembered session that expired is replaced by a new upload', async () => {
    const t = setup('expired.bin');
    const sid = await t.interrupt(1);
    t.cloud.sessions.get(sid)!.status = 'expired';
    const r = await t.run();
    expect(r.session_id).not.toBe(sid);
    expect(t.events.find((e) => e.type === 'session_gone')).toMatchObject({ session_id: sid });
    expect(t.store.list()).toEqual([]);
  });

  test('an explicit --resume of a session that is not this file is not remembered for it', async () => {
    const t = setup('a.bin');
    const sid = await t.interrupt(1);
    const other = setup('b.bin');
    const err = await runUploadWithState(
      { file: other.path, apiUrl: 'http://fake.invalid', chunkSize: CHUNK, resumeSessionId: sid, stateDir: t.stateDir },
      { api: t.cloud.api, transport: t.cloud.transport },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileMismatchError);
    expect(t.store.list().map((e) => e.path)).toEqual([t.path]);
  });
});
