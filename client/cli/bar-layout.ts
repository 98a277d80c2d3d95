/**
 * One progress bar line, laid out to fit the terminal: `label [bar] pct | sizes | parts | speed | ETA`.
 * The bar takes the room left (up to MAX_BAR columns). When even a short bar does not fit, the
 * label is cut from the left (a path ends with the file name), then the least needed statistics
 * are dropped (parts, then sizes, then speed); the percentage and the ETA always stay.
 * Widths count code points: file names with double-width characters may still overshoot.
 */

export interface BarFields {
  label: string;
  /** 0..1 */
  progress: number;
  /** e.g. `1.2 GiB / 10.0 GiB` */
  sizes: string;
  /** e.g. `246/2048 parts` */
  parts: string;
  /** e.g. `85.0 MiB/s` */
  speed: string;
  /** e.g. `1m05s`, or `-` while there is no rate yet */
  eta: string;
}

export interface BarChars {
  complete: string;
  incomplete: string;
}

export const MAX_BAR = 40;
const MIN_BAR = 10;
const MIN_LABEL = 12;

/** The line for a terminal `width` columns wide; never wider than `width - 1`. */
export function layoutBar(width: number, f: BarFields, chars: BarChars): string {
  // The last column stays free: some terminals wrap as soon as it is written.
  const room = Math.max(1, Math.floor(width) - 1);
  const progress = Math.min(1, Math.max(0, f.progress));
  const pct = `${String(Math.floor(progress * 100)).padStart(3)}%`;
  const eta = `ETA ${f.eta}`;
  const statSets = [
    [pct, f.sizes, f.parts, f.speed, eta],
    [pct, f.sizes, f.speed, eta],
    [pct, f.speed, eta],
    [pct, eta],
  ];
  const label = [...f.label];
  for (const stats of statSets) {
    const tail = `] ${stats.join(' | ')}`;
    // label + " [" + bar + tail
    const left = room - textWidth(tail) - 2;
    const minLabel = Math.min(label.length, MIN_LABEL);
    if (left < MIN_BAR + minLabel) continue;
    const barSize = Math.min(MAX_BAR, Math.max(MIN_BAR, left - label.length));
    return `${cutLeft(label, left - barSize)} [${bar(progress, barSize, chars)}${tail}`;
  }
  // Too narrow for any label: the bar alone, as wide as it can be, or just the numbers.
  const tail = `] ${pct} | ${eta}`;
  const barSize = Math.min(MAX_BAR, room - textWidth(tail) - 1);
  if (barSize >= 3) return `[${bar(progress, barSize, chars)}${tail}`;
  return [...`${pct} ${eta}`].slice(0, room).join('');
}

function textWidth(s: string): number {
  return [...s].length;
}

function bar(progress: number, size: number, chars: BarChars): string {
  const done = Math.round(progress * size);
  return chars.complete.repeat(done) + chars.incomplete.repeat(size - done);
}

/** The end of the label in at most `n` columns, with `…` where it was cut. */
function cutLeft(label: string[], n: number): string {
  if (label.length <= n) return label.join('');
  if (n <= 1) return '…'.slice(0, Math.max(0, n));
  return `…${label.slice(label.length - (n - 1)).join('')}`;
}
