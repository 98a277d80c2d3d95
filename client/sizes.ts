/** Human sizes and durations: parsing `5MiB` / `8MB` / `1048576`, and formatting for output. Pure. */
import { GiB, KiB, MiB, TiB } from '../contract/limits.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: 1000,
  kib: KiB,
  m: MiB,
  mb: 1000 ** 2,
  mib: MiB,
  g: GiB,
  gb: 1000 ** 3,
  gib: GiB,
  t: TiB,
  tb: 1000 ** 4,
  tib: TiB,
};

/**
 * Parses a byte size: a plain integer (`1048576`), or a number with a unit. Binary units (`KiB`,
 * `MiB`, `GiB`, `TiB`) and single letters (`5M`) are powers of 1024; SI units (`kB`, `MB`, ...) are
 * powers of 1000, as their names say. Fractions are allowed when the result is a whole byte count.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) throw new RangeError(`invalid size "${text}" (examples: 5MiB, 8MB, 1048576)`);
  const unit = UNITS[m[2]!.toLowerCase()];
  if (unit === undefined) throw new RangeError(`invalid size unit in "${text}" (use B, KiB, MiB, GiB, kB, MB, GB)`);
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`size "${text}" is not a whole number of bytes`);
  return bytes;
}

/** A size as `parseSize` reads it back exactly: `7MiB` for whole MiB, plain bytes otherwise. */
export function formatSizeArg(bytes: number): string {
  return bytes > 0 && bytes % MiB === 0 ? `${bytes / MiB}MiB` : String(bytes);
}

/** `5.0 MiB`, `812 B`: binary units, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < KiB) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / KiB;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** `840 ms`, `12.3 s`, `4m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Throughput as MiB/s. */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return '-';
  return `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;
}
