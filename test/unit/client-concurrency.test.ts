/**
 * The adaptive concurrency controller against a simulated link: parts of `partSize` bytes, each
 * with a fixed latency (request and answer), then sent at most `connRate` per connection, all
 * connections sharing `linkRate`. Deterministic: the clock is the simulation's.
 */
import fc from 'fast-check';
import { MiB } from '../../contract/limits.js';
import { ConcurrencyController, type ConcurrencyChange, type ConcurrencyConfig } from '../../client/engine/concurrency.js';

interface Link {
  connRate: number;
  linkRate: number;
  latencyMs: number;
  /** Bytes a new part reports as sent at once (socket buffers), without them being delivered sooner. */
  bufferBytes?: number;
  /** Multiplies the link's rates for the step (noise, a drop). */
  factor?: (t: number) => number;
}

interface SimResult {
  /** Goodput (bytes/s) over the last half of the run. */
  tailGoodput: number;
  limits: number[];
  changes: ConcurrencyChange[];
}

const STEP_MS = 10;

function simulate(link: Link, durationMs: number, limitAt: (t: number) => number, partSize: number, hooks: { progress?: (t: number, b: number) => void; partDone?: (t: number, b: number, part: { bytes: number; ms: number }) => void; each?: (t: number) => void } = {}): SimResult & { delivered: number } {
  type Part = { startedAt: number; sent: number };
  const parts: Part[] = [];
  let delivered = 0;
  let tailFrom = 0;
  const limits: number[] = [];
  for (let t = 0; t <= durationMs; t += STEP_MS) {
    if (t === Math.floor(durationMs / 2 / STEP_MS) * STEP_MS) tailFrom = sent();
    hooks.each?.(t);
    const limit = limitAt(t);
    limits.push(limit);
    while (parts.length < limit) parts.push({ startedAt: t, sent: 0 });
    const f = link.factor?.(t) ?? 1;
    const sending = parts.filter((p) => t - p.startedAt >= link.latencyMs / 2 && p.sent < partSize);
    const rate = Math.min(link.connRate * f, (link.linkRate * f) / Math.max(1, sending.length));
    for (const p of sending) p.sent = Math.min(partSize, p.sent + (rate * STEP_MS) / 1000);
    // A part is stored half a round trip after its last byte.
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i]!;
      if (p.sent >= partSize && (p as Part & { lastAt?: number }).lastAt === undefined) (p as Part & { lastAt?: number }).lastAt = t;
      const lastAt = (p as Part & { lastAt?: number }).lastAt;
      if (lastAt !== undefined && t - lastAt >= link.latencyMs / 2) {
        parts.splice(i, 1);
        delivered += partSize;
        hooks.partDone?.(t, reported(), { bytes: partSize, ms: t - p.startedAt });
      }
    }
    hooks.progress?.(t, reported());
    // Shrinking: parts in flight finish; the pool starts no new ones above the limit (done above).
  }
  /** Bytes really sent (parts in flight included): goodput without whole-part steps. */
  function sent(): number {
    return delivered + parts.reduce((a, p) => a + p.sent, 0);
  }
  function reported(): number {
    return delivered + parts.reduce((a, p) => a + Math.min(partSize, p.sent + (link.bufferBytes ?? 0)), 0);
  }
  return { delivered, tailGoodput: ((sent() - tailFrom) * 1000) / (durationMs / 2), limits, changes: [] };
}

function runAuto(link: Link, cfg: ConcurrencyConfig, durationMs: number, troubleAt: number[] = []): SimResult {
  const ctl = new ConcurrencyController(cfg, 0);
  const changes: ConcurrencyChange[] = [];
  const note = (c: ConcurrencyChange | undefined) => c && changes.push(c);
  const r = simulate(link, durationMs, () => ctl.limit, cfg.partSize, {
    progress: (t, b) => note(ctl.progress(t, b)),
    partDone: (t, b, part) => note(ctl.partDone(t, b, part)),
    each: (t) => {
      if (troubleAt.includes(t)) note(ctl.trouble(t));
    },
  });
  return { ...r, changes };
}

/** The best any fixed count from 1 to `max` reaches (simulated, same link). */
function bestFixed(link: Link, max: number, partSize: number, durationMs: number): { c: number; goodput: number } {
  let best = { c: 1, goodput: 0 };
  for (let c = 1; c <= max; c = c < 4 ? c + 1 : Math.ceil(c * 1.5)) {
    const g = simulate(link, durationMs, () => Math.min(c, max), partSize).tailGoodput;
    if (g > best.goodput) best = { c: Math.min(c, max), goodput: g };
  }
  const g = simulate(link, durationMs, () => max, partSize).tailGoodput;
  if (g > best.goodput) best = { c: max, goodput: g };
  return best;
}

const WAN = { connRate: 16 * MiB, linkRate: Infinity, latencyMs: 50 };

test('50 ms RTT, 16 MiB/s per connection, 100 MiB/s link: slow start climbs, ends >= 0.9x the best fixed count', () => {
  const link = { ...WAN, linkRate: 100 * MiB };
  const cfg = { initial: 4, max: 64, partSize: 5 * MiB };
  const auto = runAuto(link, cfg, 60_000);
  const best = bestFixed(link, 64, cfg.partSize, 60_000);
  expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.9 * best.goodput);
  expect(auto.changes[0]).toMatchObject({ from: 4, to: 8, reason: 'slow-start' });
  expect(Math.max(...auto.limits)).toBeLessThanOrEqual(64);
});

test('a link a few connections fill (loopback-like): the count stays low, goodput as good as fixed 4', () => {
  const link = { connRate: 200 * MiB, linkRate: 400 * MiB, latencyMs: 1 };
  const cfg = { initial: 4, max: 64, partSize: 5 * MiB };
  const auto = runAuto(link, cfg, 30_000);
  const fixed4 = simulate(link, 30_000, () => 4, cfg.partSize).tailGoodput;
  expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.95 * fixed4);
  // A step that did not pay was undone rather than climbing to the maximum.
  expect(auto.changes.some((c) => c.reason === 'revert')).toBe(true);
  // Probes above the knee are undone: the count stays far from the maximum.
  expect(Math.max(...auto.limits)).toBeLessThanOrEqual(32);
});

test('socket buffers filled at a growth step are not taken for gain: no climb to the maximum on a full link', () => {
  const link = { connRate: 16 * MiB, linkRate: 40 * MiB, latencyMs: 50, bufferBytes: 3 * MiB };
  // Without the settle time after each change this climbs to 64 (each probe's new sockets look like gain).
  const auto = runAuto(link, { initial: 4, max: 64, partSize: 5 * MiB }, 120_000);
  expect(Math.max(...auto.limits)).toBeLessThan(32);
  expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.85 * 40 * MiB);
});

test('a slow link: no part is left to take much longer than maxPartSeconds at the per-connection rate', () => {
  const link = { connRate: 8 * MiB, linkRate: 1 * MiB, latencyMs: 100 };
  const partSize = 8 * MiB;
  const auto = runAuto(link, { initial: 8, max: 64, partSize, maxPartSeconds: 30 }, 300_000);
  const last = auto.limits.at(-1)!;
  // 1 MiB/s shared: each part takes 8 MiB x n / 1 MiB/s; 30 s allows 3.
  expect(last).toBeLessThanOrEqual(3);
  expect(last).toBeGreaterThanOrEqual(1);
  expect(auto.changes.some((c) => c.reason === 'part-time')).toBe(true);
  expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.9 * MiB);
});

test('one retried PUT costs a quarter of the workers, not all; several within a window count once', () => {
  const link = { ...WAN, linkRate: 200 * MiB };
  const auto = runAuto(link, { initial: 4, max: 64, partSize: 5 * MiB }, 30_000, [20_000, 20_010, 20_500]);
  const cuts = auto.changes.filter((c) => c.reason === 'backoff');
  expect(cuts).toHaveLength(1);
  expect(cuts[0]!.to).toBe(Math.floor(cuts[0]!.from * 0.75));
  expect(cuts[0]!.to).toBeGreaterThan(1);
});

test('repeated trouble walks the count down step by step, never below 1', () => {
  const ctl = new ConcurrencyController({ initial: 16, max: 64, partSize: 5 * MiB }, 0);
  const seen: number[] = [];
  for (let t = 0; t < 60_000; t += 1_600) {
    ctl.trouble(t);
    seen.push(ctl.limit);
  }
  expect(seen.slice(0, 3)).toEqual([12, 9, 6]);
  expect(Math.min(...seen)).toBe(1);
  expect(seen.every((n, i) => i === 0 || n >= Math.floor(seen[i - 1]! * 0.75))).toBe(true);
});

test('the count never passes max, nor the parts left', () => {
  // Every part takes 1 s whatever the count: each doubling doubles the goodput.
  const run = (remaining: number) => {
    const ctl = new ConcurrencyController({ initial: 4, max: 10, partSize: 1 * MiB }, 0);
    ctl.setRemaining(remaining);
    const seen: number[] = [];
    let bytes = 0;
    for (let t = 1000; t < 60_000; t += 1000 / ctl.limit) {
      bytes += MiB;
      ctl.partDone(t, bytes, { bytes: MiB, ms: 1000 });
      seen.push(ctl.limit);
    }
    return seen;
  };
  const free = run(1_000_000);
  expect(free.at(-1)).toBe(10);
  expect(Math.max(...free)).toBe(10);
  const few = run(7);
  expect(Math.max(...few)).toBeGreaterThan(4);
  expect(Math.max(...few)).toBeLessThanOrEqual(7);
});

test('property: on any link, within the bounds, ends >= 0.85x the best fixed count (no noise)', () => {
  fc.assert(
    fc.property(
      fc.record({
        connMiB: fc.double({ min: 1, max: 64, noNaN: true }),
        linkMiB: fc.oneof(fc.constant(Infinity), fc.double({ min: 2, max: 400, noNaN: true })),
        latencyMs: fc.integer({ min: 0, max: 300 }),
        partMiB: fc.constantFrom(5, 8, 16),
        max: fc.integer({ min: 1, max: 64 }),
        initial: fc.integer({ min: 1, max: 8 }),
      }),
      (p) => {
        const link = { connRate: p.connMiB * MiB, linkRate: p.linkMiB * MiB, latencyMs: p.latencyMs };
        const cfg = { initial: p.initial, max: p.max, partSize: p.partMiB * MiB };
        // Long enough for slow start from 1 to 64 at this link's part time (about 2 part times a step).
        const duration = Math.min(240_000, Math.max(60_000, 30 * ((cfg.partSize / link.connRate) * 1000 + p.latencyMs)));
        const auto = runAuto(link, cfg, duration);
        expect(Math.max(...auto.limits)).toBeLessThanOrEqual(p.max);
        expect(Math.min(...auto.limits)).toBeGreaterThanOrEqual(1);
        // The fixed counts allowed by the same part-time bound (30 s at the per-connection rate).
        const best = bestFixed(link, p.max, cfg.partSize, duration);
        const allowed = Math.max(1, Math.floor((Math.min(link.linkRate, p.max * link.connRate) * 30) / cfg.partSize));
        const bestAllowed = allowed >= best.c ? best.goodput : simulate(link, duration, () => allowed, cfg.partSize).tailGoodput;
        expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.85 * bestAllowed);
      },
    ),
    { numRuns: 10 },
  );
});

test('property: noisy goodput (+-15 % per second) does not make the count collapse or run to the maximum', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.85, max: 1.15, noNaN: true }), { minLength: 120, maxLength: 120 }), (noise) => {
      const link = { connRate: 16 * MiB, linkRate: 100 * MiB, latencyMs: 50, factor: (t: number) => noise[Math.floor(t / 1000) % noise.length]! };
      const auto = runAuto(link, { initial: 4, max: 64, partSize: 5 * MiB }, 120_000);
      const tail = auto.limits.slice(auto.limits.length / 2);
      expect(Math.min(...tail)).toBeGreaterThanOrEqual(4);
      expect(auto.tailGoodput).toBeGreaterThanOrEqual(0.8 * 100 * MiB);
    }),
    { numRuns: 8 },
  );
});
