/**
 * Where adaptive concurrency starts, from the network's round trip to the API (api-core.ts). A TCP
 * connection moves about one window per round trip, so the connections a link needs grow with
 * its RTT: near (20 ms) 4-8 fill 100 MiB/s and more only cost CPU and storage work at the end of
 * a round of parts; far (100-200 ms) a per-flow throttled link needs 32 at once (docs/benchmarks.md).
 * One connection per 4 ms of RTT, rounded up to a power of two (the controller doubles from
 * there), within [minInitialConcurrency, initialConcurrency]: 20 ms -> 8, 50 ms -> 16,
 * 100 ms and more -> 32; an unknown RTT (no Server-Timing) -> initialConcurrency. Pure.
 */
import { DEFAULTS } from '../../contract/limits.js';

const MS_PER_CONNECTION = 4;

export function startingConcurrency(rttMs: number | undefined): number {
  const { initialConcurrency: most, minInitialConcurrency: least } = DEFAULTS;
  if (rttMs === undefined || !Number.isFinite(rttMs) || rttMs < 0) return most;
  const want = Math.max(1, rttMs / MS_PER_CONNECTION);
  return Math.min(most, Math.max(least, 2 ** Math.ceil(Math.log2(want))));
}
