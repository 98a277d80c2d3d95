/**
 * Progress display of the CLI: a cli-progress bar on a TTY, otherwise a plain line every few
 * seconds (logs and CI). Values come from the library's ProgressTracker, which never goes back.
 */
import cliProgress from 'cli-progress';
import type { UploadProgress } from '../progress.js';
import { formatBytes, formatDuration } from '../sizes.js';
import { layoutBar, type BarFields } from './bar-layout.js';

export interface ProgressView {
  update(p: UploadProgress): void;
  /** A message line that must not garble the bar. */
  log(line: string): void;
  stop(): void;
}

export const noProgress = (log: (line: string) => void): ProgressView => ({ update() {}, log, stop() {} });

/** Where one file stands in a run of several: shown as a total across the run. */
export interface RunTotal {
  /** 1-based position of this file, and how many files the run has. */
  index: number;
  count: number;
  /** Bytes of the files before this one (done or given up), and of all files. */
  bytesBefore: number;
  bytesAll: number;
}

/** Bytes of the whole run done so far, given this file's progress. */
function runDone(total: RunTotal, p: UploadProgress): number {
  return Math.min(total.bytesAll, total.bytesBefore + p.bytesDone);
}

function totalText(total: RunTotal, p: UploadProgress): string {
  const done = runDone(total, p);
  const pct = total.bytesAll > 0 ? Math.floor((done / total.bytesAll) * 100) : 100;
  return `total ${pct}% ${formatBytes(done)} / ${formatBytes(total.bytesAll)}, file ${total.index}/${total.count}`;
}

/** Bytes/s over the last few seconds (not since start: resumes and stalls would skew it). */
class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  add(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > 5000) this.samples.shift();
  }
  rate(): number {
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    if (!a || !b || b.t - a.t < 200) return 0;
    return ((b.bytes - a.bytes) / (b.t - a.t)) * 1000;
  }
}

const BAR_CHARS = { complete: '█', incomplete: '░' };

/** What a bar shows besides its value; laid out per redraw to the terminal's current width. */
type BarPayload = Omit<BarFields, 'progress'>;

export function ttyProgress(label: string, stream: NodeJS.WriteStream, total?: RunTotal): ProgressView {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      // cli-progress passes the terminal's width (stream.columns, read at each redraw).
      format: (_options, params, payload: BarPayload) => layoutBar(params.maxWidth, { ...payload, progress: params.progress }, BAR_CHARS),
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const meter = new RateMeter();
  let bar: cliProgress.SingleBar | undefined;
  let totalBar: cliProgress.SingleBar | undefined;
  let stopped = false;
  return {
    update(p) {
      if (stopped) return;
      meter.add(p.bytesThisRun);
      const payload: BarPayload = {
        label,
        sizes: `${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}`,
        parts: `${p.partsDone}/${p.partsTotal} parts`,
        speed: `${formatBytes(Math.round(meter.rate()))}/s`,
        eta: etaText(p, meter.rate()),
      };
      if (!bar) bar = multi.create(Math.max(1, p.bytesTotal), p.bytesDone, payload);
      else bar.update(p.bytesDone, payload);
      if (total && total.count > 1) {
        const done = runDone(total, p);
        const totalPayload: BarPayload = {
          label: `total (file ${total.index}/${total.count})`,
          sizes: `${formatBytes(done)} / ${formatBytes(total.bytesAll)}`,
          parts: `${total.count} files`,
          speed: payload.speed,
          eta: etaText({ ...p, bytesDone: done, bytesTotal: total.bytesAll }, meter.rate()),
        };
        if (!totalBar) totalBar = multi.create(Math.max(1, total.bytesAll), done, totalPayload);
        else totalBar.update(done, totalPayload);
      }
    },
    log(line) {
      // cli-progress prints logged lines only when it redraws, and has nothing to redraw
      // before the first update: write directly until then, and redraw at once after.
      if (!bar || stopped) {
        stream.write(`${line}\n`);
        return;
      }
      multi.log(`${line}\n`);
      multi.update();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (bar) multi.update();
      multi.stop();
    },
  };
}

export function plainProgress(label: string, log: (line: string) => void, everyMs = 2000, total?: RunTotal): ProgressView {
  const meter = new RateMeter();
  let last = 0;
  let lastLine = '';
  const line = (p: UploadProgress) => {
    const pct = p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
    const own = `${label} ${pct}% ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}, ${p.partsDone}/${p.partsTotal} parts, ${formatBytes(Math.round(meter.rate()))}/s`;
    return total && total.count > 1 ? `${own}; ${totalText(total, p)}` : own;
  };
  return {
    update(p) {
      const now = performance.now();
      meter.add(p.bytesThisRun, now);
      if (now - last < everyMs) return;
      last = now;
      lastLine = line(p);
      log(lastLine);
    },
    log,
    stop() {},
  };
}

function etaText(p: UploadProgress, rate: number): string {
  if (p.bytesDone >= p.bytesTotal) return '0 ms';
  if (rate <= 0) return '-';
  return formatDuration(((p.bytesTotal - p.bytesDone) / rate) * 1000);
}
