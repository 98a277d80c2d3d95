/**
 * WAN profiles for the shaped benchmarks (issue 13): round-trip time x per-connection cap x
 * whole-link cap, a subset of the 4 x 3 x 3 = 36 combinations of RTT 20/50/100/200 ms, per
 * connection 4/16/64 MiB/s and link 24/100/400 MiB/s. Each profile is picked for the regime it
 * tests, so that together they cover: few vs many connections needed to fill the link, short vs
 * long RTT (per-part latency overhead), and a link that more connections cannot widen (where
 * an adaptive controller must stop growing). Why these six and not others: bench/notes.md.
 */
import { MiB } from './stats.js';

export interface WanProfile {
  /** Stable id, used as key in the results. */
  id: string;
  rttMs: number;
  /** Per connection and direction, bytes/s. */
  connBytesPerSec: number;
  /** All connections' uploads together, bytes/s. */
  linkBytesPerSec: number;
  /** What the profile stands for (shown in the report). */
  what: string;
}

const profile = (rttMs: number, connMiB: number, linkMiB: number, what: string): WanProfile => ({
  id: `${rttMs}ms-${connMiB}c-${linkMiB}l`,
  rttMs,
  connBytesPerSec: connMiB * MiB,
  linkBytesPerSec: linkMiB * MiB,
  what,
});

export const WAN_PROFILES: readonly WanProfile[] = [
  profile(20, 64, 100, 'nearby region, fast connections: 2 connections fill the link'),
  profile(50, 16, 100, "issue 13's reference (0.63x at defaults before): ~7 connections fill the link"),
  profile(100, 16, 24, 'narrow link, far away: 2 connections fill it, more only queue'),
  profile(100, 4, 100, 'per-flow throttled (e.g. a middlebox): 25+ connections to fill the link'),
  profile(200, 4, 24, 'intercontinental, slow flows: ~6 connections, each part pays 200 ms'),
  profile(200, 64, 400, 'long fat pipe: bounded by this machine (CPU), not the 400 MiB/s link'),
];

/** The quick run: the reference profile and the one needing the most connections. */
export const QUICK_PROFILE_IDS = ['50ms-16c-100l', '100ms-4c-100l'];

/** Fixed settings searched for the best: concurrency x part size (MiB). */
export const GRID = { concurrency: [2, 4, 8, 16, 32], partMiB: [5, 8, 16] } as const;
