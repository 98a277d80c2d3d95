import { MiB } from '../../contract/limits.js';
import { UsageError } from '../../client/errors.js';
import { startingConcurrency } from '../../client/engine/start-count.js';
import { buffersWithin, checkConcurrency, connectionsFor, streamConcurrency, WorkerCount, type WorkerCountChange } from '../../client/engine/worker-count.js';

const base = { partSize: 5 * MiB, buffered: true, parts: 1000, startedAt: 0 };

test("'auto' is the default: starts at 32 when the round trip is unknown, bounded by 64, the memory budget and the parts to send", () => {
  expect(new WorkerCount({ ...base, clock: () => 0 }).summary()).toMatchObject({ mode: 'auto', initial: 32, final: 32, trace: [{ t_ms: 0, n: 32 }] });
  expect(new WorkerCount({ ...base, parts: 2, clock: () => 0 }).limit).toBe(2);
  // 20 MiB holds 4 buffers of 5 MiB: two for the read-ahead, two for parts in flight.
  const small = new WorkerCount({ ...base, maxMemory: 20 * MiB, clock: () => 0 });
  expect([small.limit, small.readAhead]).toEqual([2, 2]);
  // Room for one buffer only: one part in flight, nothing read ahead.
  const one = new WorkerCount({ ...base, maxMemory: 5 * MiB, clock: () => 0 });
  expect([one.limit, one.readAhead]).toEqual([1, 0]);
  expect(new WorkerCount({ ...base, clock: () => 0 }).readAhead).toBe(2);
  // Lazy slices (a browser Blob) hold no buffers: no memory bound.
  expect(new WorkerCount({ ...base, buffered: false, maxMemory: 1, clock: () => 0 }).limit).toBe(32);
});

test("'auto' starts from the round trip to the API: 8 near, 16 at 50 ms, 32 far or unknown, within the budget and the parts", () => {
  const table: [number | undefined, number][] = [[0, 8], [9.5, 8], [20, 8], [32, 8], [33, 16], [50, 16], [64, 16], [65, 32], [100, 32], [200, 32], [5000, 32], [undefined, 32], [Number.NaN, 32], [-1, 32]];
  expect(table.map(([rtt]) => startingConcurrency(rtt))).toEqual(table.map(([, n]) => n));
  const near = new WorkerCount({ ...base, rttMs: 20.04, clock: () => 0 });
  expect(near.summary()).toMatchObject({ mode: 'auto', initial: 8, rtt_ms: 20, trace: [{ t_ms: 0, n: 8 }] });
  expect(new WorkerCount({ ...base, rttMs: 50, parts: 5, clock: () => 0 }).limit).toBe(5);
  expect(new WorkerCount({ ...base, rttMs: 150, maxMemory: 60 * MiB, clock: () => 0 }).limit).toBe(10);
  // A fixed count ignores it, and says nothing of it.
  expect(new WorkerCount({ ...base, concurrency: 4, rttMs: 20, clock: () => 0 }).summary()).not.toHaveProperty('rtt_ms');
  expect(new WorkerCount({ ...base, clock: () => 0 }).summary()).not.toHaveProperty('rtt_ms');
});

test('a fixed count is what was asked, capped by maxMemory only when given, and never changes', () => {
  let t = 0;
  const fixed = new WorkerCount({ ...base, concurrency: 16, partSize: 100 * MiB, clock: () => t });
  expect(fixed.limit).toBe(16);
  for (; t < 20_000; t += 100) fixed.partDone(t * 100 * MiB, { bytes: 100 * MiB, ms: 100 });
  fixed.trouble();
  expect(fixed.limit).toBe(16);
  expect(fixed.summary()).toMatchObject({ mode: 'fixed', initial: 16, final: 16, max: 16 });
  expect(fixed.readAhead).toBe(2);
  // A budget given caps the count first; the read-ahead takes only what is left of it.
  const capped = new WorkerCount({ ...base, concurrency: 16, partSize: 100 * MiB, maxMemory: 300 * MiB, clock: () => 0 });
  expect([capped.limit, capped.readAhead]).toEqual([3, 0]);
  const roomy = new WorkerCount({ ...base, concurrency: 2, partSize: 100 * MiB, maxMemory: 300 * MiB, clock: () => 0 });
  expect([roomy.limit, roomy.readAhead]).toEqual([2, 1]);
});

test('changes are reported with their time since the upload started, and traced', () => {
  let t = 1000;
  const changes: WorkerCountChange[] = [];
  const wc = new WorkerCount({ ...base, startedAt: 400, clock: () => t, onChange: (c) => changes.push(c) });
  // Each part of 5 MiB takes 312 ms whatever the count (16 MiB/s per connection): slow start doubles,
  // up to what the 256 MiB budget holds beside the read-ahead (51 - 2 buffers).
  let bytes = 0;
  for (t = 1312; t < 4000; t += 312 / wc.limit) {
    bytes += 5 * MiB;
    wc.partDone(bytes, { bytes: 5 * MiB, ms: 312 });
  }
  expect(changes[0]).toMatchObject({ from: 32, to: 49, reason: 'slow-start' });
  // At most 32 connections x 16 MiB/s; no more than the bytes stored since the start (no in-flight
  // progress is reported here).
  expect(changes[0]!.mibps).toBeGreaterThan(80);
  expect(changes[0]!.mibps).toBeLessThanOrEqual(512.01);
  expect(changes[0]!.t_ms).toBeGreaterThan(900);
  expect(wc.summary().trace.slice(0, 2)).toEqual([
    { t_ms: 600, n: 32 },
    { t_ms: changes[0]!.t_ms, n: 49 },
  ]);
  const before = wc.limit;
  wc.trouble();
  expect(wc.limit).toBe(Math.floor(before * 0.75));
  expect(changes.at(-1)).toMatchObject({ from: before, to: Math.floor(before * 0.75), reason: 'backoff' });
  expect(wc.summary().trace.at(-1)!.n).toBe(wc.limit);
});

test('options are checked: auto or 1..64; maxMemory positive', () => {
  expect(checkConcurrency(undefined)).toBe('auto');
  expect(checkConcurrency(64)).toBe(64);
  for (const bad of [0, 65, 1.5, Number.NaN, 'fast' as 'auto']) expect(() => checkConcurrency(bad)).toThrow(UsageError);
  expect(() => new WorkerCount({ ...base, maxMemory: 0 })).toThrow(UsageError);
});

test('helpers: buffers within a budget (at least one), sockets for a pool, a stream count', () => {
  expect(buffersWithin(256 * MiB, 5 * MiB)).toBe(51);
  expect(buffersWithin(MiB, 5 * MiB)).toBe(1);
  expect(connectionsFor({})).toBe(66);
  expect(connectionsFor({ concurrency: 'auto', maxConcurrency: 6 })).toBe(8);
  expect(connectionsFor({ concurrency: 3 })).toBe(5);
  expect(streamConcurrency(undefined, undefined, 11 * MiB)).toBe(8);
  expect(streamConcurrency('auto', 33 * MiB, 11 * MiB)).toBe(3);
  expect(streamConcurrency(12, undefined, 11 * MiB)).toBe(12);
  expect(streamConcurrency(12, 55 * MiB, 11 * MiB)).toBe(5);
});
