/**
 * How many parts to keep in flight: a pure controller fed with the upload's progress, its stored
 * parts and its troubles (retried PUTs), clock injected by the caller.
 *
 * A count is judged by the parts begun under it, as count x (bytes / time) of those parts
 * (Little's law), but no more than the bytes really sent meanwhile (uploaders waiting for URLs
 * are not parts in flight): a part's time runs to storage's answer, so the socket buffers new
 * connections fill at once never look like gain, and one part time after a change is enough to
 * judge it. Slow start doubles the count while a doubling pays (>= `slowStartGain` more goodput)
 * and keeps its last doubling only if it paid (`slowStartLoss` -0.05: >= 5 %). Then, every window (at least
 * `windowMs` and `minParts` parts), a step of +25 % is probed now and then and kept only if it
 * paid (>= `probeGain`), else undone and the next probe waits longer. A retried PUT (5xx,
 * SlowDown, stall, network) cuts the count by `backoff` at most once per window, so one failure on
 * a lossy link costs a quarter of the workers, not all of them. The count never exceeds what keeps
 * one part within `maxPartSeconds` at the measured part times (also judged from the bytes sent
 * when slow start has no stored part after 5 s): many slow parts in parallel stall together and
 * make resume coarse.
 */

export interface ConcurrencyConfig {
  /** Count to start with. */
  initial: number;
  /** Hard upper bound (the memory budget and the engine's maximum). */
  max: number;
  /** Part size in bytes (for the per-part time bound). */
  partSize: number;
  windowMs?: number;
  minParts?: number;
  slowStartGain?: number;
  /** Slow start's last doubling is undone when it lost more than this (negative: gained less). */
  slowStartLoss?: number;
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

/** Slow start looks at the bytes sent this long after a change when no part begun since is stored. */
const EARLY_LOOK_MS = 5000;

/** The count grows only while parts take less than this share of maxPartSeconds. */
const GROWTH_ROOM = 0.75;

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
  private bytes = 0;
  private lastCut = -Infinity;
  private remaining = Infinity;
  /** Goodput of the last window (reported with a backoff). */
  private lastG = 0;
  private lastNow = 0;
  /** When the count last changed, and the parts begun since then that are stored. */
  private changedAt: number;
  private sample = { parts: 0, bytes: 0, ms: 0 };
  private bytesAtChange = 0;
  /** Bytes sent when the count was last judged or changed. */
  private bytesAtJudge = 0;
  /** When the count was last judged (steady windows last at least windowMs). */
  private judgedAt = -Infinity;
  /** Recent parts' bytes and times, decayed (the per-part time bound). */
  private partTime = { bytes: 0, ms: 0 };
  private readonly o: Required<ConcurrencyConfig>;

  constructor(cfg: ConcurrencyConfig, now: number) {
    this.o = { windowMs: 1000, minParts: 3, slowStartGain: 0.15, slowStartLoss: -0.05, probeGain: 0.05, backoff: 0.75, maxPartSeconds: 30, ...cfg };
    if (!Number.isInteger(cfg.max) || cfg.max < 1) throw new RangeError('max must be a positive integer');
    if (!(cfg.partSize > 0)) throw new RangeError('partSize must be positive');
    this.c = clamp(Math.floor(cfg.initial), 1, cfg.max);
    this.changedAt = now;
    this.lastNow = now;
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

  /**
   * A part was stored; `bytesDone` as for `progress`; `part`: its size and how long it took from
   * its start (read included) to storage's answer.
   */
  partDone(now: number, bytesDone: number, part?: { bytes: number; ms: number }): ConcurrencyChange | undefined {
    this.lastNow = now;
    this.remaining = Math.max(0, this.remaining - 1);
    this.bytes = Math.max(this.bytes, bytesDone);
    if (part && part.ms > 0) {
      this.partTime = { bytes: this.partTime.bytes * 0.8 + part.bytes, ms: this.partTime.ms * 0.8 + part.ms };
      if (now - part.ms >= this.changedAt) {
        this.sample.parts++;
        this.sample.bytes += part.bytes;
        this.sample.ms += part.ms;
      }
      return this.phase === 'slow-start' ? this.slowStart(now) : this.steady(now);
    }
    return this.observe(now);
  }

  /** Slow start: judges the count once enough parts begun under it are stored. */
  private slowStart(now: number): ConcurrencyChange | undefined {
    const { sample } = this;
    if (sample.parts < Math.max(2, Math.ceil(this.c / 4))) return undefined;
    const g = this.goodput(now);
    this.lastG = g;
    const tooLong = this.partTimeBound();
    if (tooLong !== undefined) return tooLong;
    const base = this.base;
    if (base === undefined || g >= base.g * (1 + this.o.slowStartGain)) {
      this.base = { c: this.c, g };
      const to = Math.min(this.c * 2, this.ceiling());
      if (to > this.c) return this.set(now, to, g, 'slow-start');
    } else if (g < base.g * (1 - this.o.slowStartLoss)) {
      this.leaveSlowStart();
      return this.set(now, base.c, g, 'revert');
    }
    // Within the bounds a few more parts cost little, a few less cost goodput: slow start's last
    // step stays unless it clearly lost (one measurement's noise is not a loss).
    this.leaveSlowStart();
    return undefined;
  }

  /**
   * Slow start on a slow link: no part begun under the count is stored yet, and the bytes sent
   * so far say the parts will take longer than maxPartSeconds: fewer at once now, rather than
   * after a whole round of overlong parts.
   */
  private slowLink(now: number): ConcurrencyChange | undefined {
    const dt = now - this.changedAt;
    if (this.sample.parts > 0 || dt < EARLY_LOOK_MS) return undefined;
    const g = ((this.bytes - this.bytesAtChange) * 1000) / dt;
    const fit = Math.max(1, Math.floor((g * this.o.maxPartSeconds) / this.o.partSize));
    if (fit >= this.c) return undefined;
    this.leaveSlowStart();
    return this.set(now, fit, g, 'part-time');
  }

  /**
   * The count's goodput: count x (bytes / time) of the parts begun under it, but no more than the
   * bytes really sent since it was last judged: uploaders that wait (for URLs, for the disk) do
   * not count as parts in flight.
   */
  private goodput(now: number): number {
    const { sample } = this;
    const little = (this.c * sample.bytes * 1000) / sample.ms;
    const since = Math.max(this.changedAt, this.judgedAt);
    const sent = now > since ? ((this.bytes - this.bytesAtJudge) * 1000) / (now - since) : Infinity;
    return Math.min(little, sent);
  }

  private leaveSlowStart(): void {
    this.phase = 'steady';
    // The windows measure goodput in their own terms: the first one sets the base.
    this.base = undefined;
  }

  /** Seconds one part takes now (recent parts, weighted), or undefined before any. */
  private secondsPerPart(): number | undefined {
    return this.partTime.ms > 0 ? this.partTime.ms / 1000 / Math.max(1, this.partTime.bytes / this.o.partSize) : undefined;
  }

  /** The most parts that keep one within maxPartSeconds, if parts take as long as now per part in flight. */
  private partTimeCeiling(): number {
    const s = this.secondsPerPart();
    return s === undefined ? Infinity : Math.max(1, Math.floor((this.c * this.o.maxPartSeconds) / s));
  }

  /**
   * How far the count may grow: not past max or the parts left, and not at all once parts take
   * most of maxPartSeconds (more of them could push each past it; if a step does, the bound
   * takes it back after one round).
   */
  private ceiling(): number {
    const s = this.secondsPerPart();
    const room = s !== undefined && s > this.o.maxPartSeconds * GROWTH_ROOM ? this.c : Infinity;
    return Math.min(this.o.max, room, Math.max(1, this.remaining));
  }

  /** Parts take longer than maxPartSeconds: fewer in flight, each faster. */
  private partTimeBound(): ConcurrencyChange | undefined {
    const fit = this.partTimeCeiling();
    if (this.c <= fit) return undefined;
    this.leaveSlowStart();
    this.probing = false;
    return this.set(this.lastNow, fit, this.lastG, 'part-time');
  }

  /** A PUT is being retried for a cause that signals congestion (5xx, SlowDown, stall, network). */
  trouble(now: number): ConcurrencyChange | undefined {
    // One cut per window: a burst of retries from one event is one signal.
    if (now - this.lastCut < this.o.windowMs) return undefined;
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
    this.lastNow = now;
    return this.phase === 'slow-start' ? this.slowLink(now) : undefined;
  }

  /** Steady: judges the count every window of parts begun under it (at least windowMs, minParts). */
  private steady(now: number): ConcurrencyChange | undefined {
    const { sample } = this;
    if (sample.parts < Math.max(this.o.minParts, Math.ceil(this.c / 4)) || now - this.judgedAt < this.o.windowMs) return undefined;
    const g = this.goodput(now);
    this.lastG = g;
    this.judgedAt = now;
    this.bytesAtJudge = this.bytes;
    this.sample = { parts: 0, bytes: 0, ms: 0 };
    // At the tail fewer parts are left than workers: the window says nothing about the count.
    if (this.remaining < this.c) return undefined;
    return this.decide(now, g);
  }

  private decide(now: number, g: number): ConcurrencyChange | undefined {
    const tooLong = this.partTimeBound();
    if (tooLong !== undefined) {
      this.base = undefined;
      return tooLong;
    }
    const base = this.base;
    if (base === undefined) {
      this.base = { c: this.c, g };
      return undefined;
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
    const to = Math.min(this.c + Math.max(1, Math.ceil(this.c / 4)), this.ceiling());
    if (to <= this.c) return undefined;
    this.probing = true;
    return this.set(now, to, g, 'probe');
  }

  private set(now: number, to: number, g: number, reason: ChangeReason): ConcurrencyChange | undefined {
    const from = this.c;
    if (to === from) return undefined;
    this.c = to;
    this.changedAt = now;
    this.judgedAt = now;
    this.bytesAtChange = this.bytes;
    this.bytesAtJudge = this.bytes;
    this.sample = { parts: 0, bytes: 0, ms: 0 };
    return { from, to, bytesPerSec: g, reason };
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
