/**
 * How many parts to keep in flight: a pure controller fed with the upload's progress, its part
 * completions and its troubles (retried PUTs), clock injected by the caller.
 *
 * Goodput is measured over windows (at least `windowMs` and `minParts` completions, begun
 * `settleMs` after the last change, so the socket buffers new connections fill at once do not
 * count as gain). Slow start doubles the count while a doubling pays (>= `slowStartGain` more
 * goodput); then a step of +25 % is probed now and then and kept only if it paid
 * (>= `probeGain`), else undone and the next probe waits longer. A retried PUT (5xx, SlowDown,
 * stall, network) cuts the count by `backoff` at most once per window, so one failure on a lossy
 * link costs a quarter of the workers, not all of them. The count never exceeds what keeps one
 * part within `maxPartSeconds` at the measured per-connection rate: many slow parts in parallel
 * stall together and make resume coarse.
 */

export interface ConcurrencyConfig {
  /** Count to start with. */
  initial: number;
  /** Hard upper bound (the memory budget and the engine's maximum). */
  max: number;
  /** Part size in bytes (for the per-part time bound). */
  partSize: number;
  windowMs?: number;
  settleMs?: number;
  minParts?: number;
  slowStartGain?: number;
  probeGain?: number;
  backoff?: number;
  maxPartSeconds?: number;
}

export type ChangeReason = 'slow-start' | 'revert' | 'probe' | 'backoff' | 'part-time';

export interface ConcurrencyChange {
  from: number;
  to: number;
  /** Goodput of the window that decided it, bytes/s (0 for a backoff before any window). */
  bytesPerSec: number;
  reason: ChangeReason;
}

/** Probes wait at most this many windows after failed ones. */
const MAX_PROBE_WAIT = 8;

export class ConcurrencyController {
  private c: number;
  private phase: 'slow-start' | 'steady' = 'slow-start';
  /** The count last kept and its goodput (EWMA over its windows). */
  private base: { c: number; g: number } | undefined;
  private probing = false;
  private probeWait = 0;
  private probeInterval = 1;
  private settleUntil: number;
  private win: { t: number; bytes: number; parts: number } | undefined;
  private parts = 0;
  private bytes = 0;
  private lastCut = -Infinity;
  private remaining = Infinity;
  /** Goodput of the last window (reported with a backoff). */
  private lastG = 0;
  private readonly o: Required<ConcurrencyConfig>;

  constructor(cfg: ConcurrencyConfig, now: number) {
    this.o = { windowMs: 1000, settleMs: 500, minParts: 3, slowStartGain: 0.15, probeGain: 0.05, backoff: 0.75, maxPartSeconds: 30, ...cfg };
    if (!Number.isInteger(cfg.max) || cfg.max < 1) throw new RangeError('max must be a positive integer');
    if (!(cfg.partSize > 0)) throw new RangeError('partSize must be positive');
    this.c = clamp(Math.floor(cfg.initial), 1, cfg.max);
    this.settleUntil = now + this.o.settleMs;
  }

  /** Parts to keep in flight now. */
  get limit(): number {
    return this.c;
  }

  /** Parts not yet stored: growing past them cannot pay, and windows at the tail prove nothing. */
  setRemaining(n: number): void {
    this.remaining = n;
  }

  /** `bytesDone`: bytes accepted so far, in flight included (never decreasing). */
  progress(now: number, bytesDone: number): ConcurrencyChange | undefined {
    this.bytes = Math.max(this.bytes, bytesDone);
    return this.observe(now);
  }

  /** A part was stored; `bytesDone` as for `progress`. */
  partDone(now: number, bytesDone: number): ConcurrencyChange | undefined {
    this.parts++;
    this.remaining = Math.max(0, this.remaining - 1);
    this.bytes = Math.max(this.bytes, bytesDone);
    return this.observe(now);
  }

  /** A PUT is being retried for a cause that signals congestion (5xx, SlowDown, stall, network). */
  trouble(now: number): ConcurrencyChange | undefined {
    if (now - this.lastCut < this.o.settleMs + this.o.windowMs) return undefined;
    this.lastCut = now;
    this.phase = 'steady';
    this.probing = false;
    this.probeInterval = Math.min(this.probeInterval * 2, MAX_PROBE_WAIT);
    this.probeWait = this.probeInterval;
    const to = Math.max(1, Math.floor(this.c * this.o.backoff));
    // The goodput at the new count is unknown: the next window measures it.
    this.base = undefined;
    return this.set(now, to, this.lastG, 'backoff');
  }

  private observe(now: number): ConcurrencyChange | undefined {
    if (now < this.settleUntil || this.win === undefined) {
      if (now >= this.settleUntil) this.win = { t: now, bytes: this.bytes, parts: this.parts };
      return undefined;
    }
    const dt = now - this.win.t;
    if (dt < this.o.windowMs || this.parts - this.win.parts < this.o.minParts) return undefined;
    const g = ((this.bytes - this.win.bytes) * 1000) / dt;
    this.win = { t: now, bytes: this.bytes, parts: this.parts };
    this.lastG = g;
    // At the tail fewer parts are left than workers: the window says nothing about the count.
    if (this.remaining < this.c) return undefined;
    return this.decide(now, g);
  }

  private decide(now: number, g: number): ConcurrencyChange | undefined {
    const { max, partSize, maxPartSeconds } = this.o;
    // Per-connection rate g / c: one part takes partSize * c / g seconds.
    const byPartTime = Math.max(1, Math.floor((g * maxPartSeconds) / partSize));
    const ceiling = Math.min(max, byPartTime, Math.max(1, this.remaining));
    if (this.c > byPartTime) {
      this.phase = 'steady';
      this.probing = false;
      this.base = { c: byPartTime, g };
      return this.set(now, byPartTime, g, 'part-time');
    }
    const base = this.base;
    if (base === undefined) {
      this.base = { c: this.c, g };
      return this.phase === 'slow-start' ? this.grow(now, Math.min(this.c * 2, ceiling), g, 'slow-start') : undefined;
    }
    if (this.phase === 'slow-start') {
      if (g >= base.g * (1 + this.o.slowStartGain)) {
        this.base = { c: this.c, g };
        return this.grow(now, Math.min(this.c * 2, ceiling), g, 'slow-start');
      }
      this.phase = 'steady';
      if (g >= base.g * (1 + this.o.probeGain)) {
        this.base = { c: this.c, g };
        return undefined;
      }
      return this.set(now, base.c, g, 'revert');
    }
    if (this.probing) {
      this.probing = false;
      if (g >= base.g * (1 + this.o.probeGain)) {
        this.base = { c: this.c, g };
        this.probeInterval = 1;
        this.probeWait = 0;
        return undefined;
      }
      this.probeInterval = Math.min(this.probeInterval * 2, MAX_PROBE_WAIT);
      this.probeWait = this.probeInterval;
      return this.set(now, base.c, g, 'revert');
    }
    base.g = (base.g + g) / 2;
    if (this.probeWait > 0) {
      this.probeWait--;
      return undefined;
    }
    const change = this.grow(now, Math.min(this.c + Math.max(1, Math.ceil(this.c / 4)), ceiling), g, 'probe');
    this.probing = change !== undefined;
    return change;
  }

  private grow(now: number, to: number, g: number, reason: ChangeReason): ConcurrencyChange | undefined {
    if (to <= this.c) {
      this.phase = 'steady';
      return undefined;
    }
    return this.set(now, to, g, reason);
  }

  private set(now: number, to: number, g: number, reason: ChangeReason): ConcurrencyChange | undefined {
    const from = this.c;
    if (to === from) return undefined;
    this.c = to;
    this.settleUntil = now + this.o.settleMs;
    this.win = undefined;
    return { from, to, bytesPerSec: g, reason };
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
