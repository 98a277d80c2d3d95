/**
 * One progress view for a directory run (all its files at once): bytes of the run, files done
 * of files found. A cli-progress bar on a TTY, otherwise a plain line every few seconds.
 */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../tree-upload.js';
import { formatBytes, formatDuration } from '../sizes.js';
import { layoutBar } from './bar-layout.js';

export interface RunView {
  update(p: RunProgress): void;
  /** A message line that must not garble the bar. */
  log(line: string): void;
  stop(): void;
}

/** Bytes/s since the view started (files start and end too often for a short window to be steadier). */
function rateText(bytes: number, since: number): string {
  const s = (performance.now() - since) / 1000;
  return `${formatBytes(s > 0.2 ? Math.round(bytes / s) : 0)}/s`;
}

function etaText(p: RunProgress, since: number): string {
  if (p.bytesDone >= p.bytesTotal) return '0 ms';
  const s = (performance.now() - since) / 1000;
  if (p.bytesDone <= 0 || s < 0.2) return '-';
  return formatDuration(((p.bytesTotal - p.bytesDone) / (p.bytesDone / s)) * 1000);
}

export function ttyRunView(label: string, stream: NodeJS.WriteStream): RunView {
  const since = performance.now();
  const bar = new cliProgress.SingleBar({
    stream,
    format: (_o, params, payload: { p: RunProgress }) =>
      layoutBar(params.maxWidth, {
        label,
        progress: params.progress,
        sizes: `${formatBytes(payload.p.bytesDone)} / ${formatBytes(payload.p.bytesTotal)}`,
        parts: `${payload.p.filesDone}/${payload.p.filesTotal} files`,
        speed: rateText(payload.p.bytesDone, since),
        eta: etaText(payload.p, since),
      }, { complete: '█', incomplete: '░' }),
    hideCursor: true,
    fps: 10,
  });
  let started = false;
  let stopped = false;
  return {
    update(p) {
      if (stopped) return;
      if (!started) {
        bar.start(Math.max(1, p.bytesTotal), p.bytesDone, { p });
        started = true;
      } else {
        bar.update(p.bytesDone, { p });
      }
    },
    log(line) {
      if (!started || stopped) {
        stream.write(`${line}\n`);
        return;
      }
      // A SingleBar has no log(): clear the line, write, and let the next redraw restore the bar.
      stream.write(`\r\u001b[2K${line}\n`);
      bar.render();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (started) bar.stop();
    },
  };
}

export function plainRunView(label: string, log: (line: string) => void, everyMs = 2000): RunView {
  const since = performance.now();
  let last = 0;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      const pct = p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
      log(`${label} ${pct}% ${formatBytes(p.bytesDone)} / ${formatBytes(p.bytesTotal)}, ${p.filesDone}/${p.filesTotal} files, ${rateText(p.bytesDone, since)}`);
    },
    log,
    stop() {},
  };
}

export const noRunView = (log: (line: string) => void): RunView => ({ update() {}, log, stop() {} });
