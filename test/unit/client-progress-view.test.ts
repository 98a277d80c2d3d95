import { Writable } from 'node:stream';
import { layoutBar } from '../../client/cli/bar-layout.js';
import { plainProgress, ttyProgress } from '../../client/cli/progress-view.js';
import type { UploadProgress } from '../../client/progress.js';
import { MiB } from '../../contract/limits.js';

const progress = (bytesDone: number, bytesTotal: number): UploadProgress =>
  ({ bytesDone, bytesTotal, partsDone: 1, partsTotal: 2, bytesThisRun: bytesDone }) as UploadProgress;

test('plain progress of one file of several also shows the run total', () => {
  const lines: string[] = [];
  const view = plainProgress('mpu: b.bin', (l) => lines.push(l), 0, { index: 2, count: 3, bytesBefore: 10 * MiB, bytesAll: 40 * MiB });
  view.update(progress(5 * MiB, 10 * MiB));
  expect(lines[0]).toMatch(/^mpu: b\.bin 50% 5\.0 MiB \/ 10\.0 MiB, 1\/2 parts, .*; total 37% 15\.0 MiB \/ 40\.0 MiB, file 2\/3$/);
});

test('a single file shows no total', () => {
  const lines: string[] = [];
  const view = plainProgress('mpu: a.bin', (l) => lines.push(l), 0, { index: 1, count: 1, bytesBefore: 0, bytesAll: 10 * MiB });
  view.update(progress(5 * MiB, 10 * MiB));
  expect(lines[0]).not.toContain('total');
});

/** A terminal `columns` wide: what was drawn, as the visible lines (escape sequences removed). */
function fakeTerminal(columns: number) {
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString();
      cb();
    },
  }) as Writable & { isTTY: boolean; columns: number };
  stream.isTTY = true;
  stream.columns = columns;
  // Every redraw starts with cursor moves (ESC [ ... letter): they, CR and LF end a line.
  const lines = () =>
    raw
      .replace(/\x1B\[[0-9;?]*[A-Za-z]/g, '\n')
      .split(/[\r\n]/)
      .filter((l) => l.trim() !== '');
  return { stream: stream as unknown as NodeJS.WriteStream, lines };
}

describe.each([120, 80])('the progress bar on a %i-column terminal', (columns) => {
  test.each([
    ['a short path', 'big.bin', undefined],
    ['a long path', '/home/someone/datasets/2026/survey-images-full-resolution-archive.tar', undefined],
    ['one file of several (a second bar for the total)', '/data/b.bin', { index: 2, count: 3, bytesBefore: 512 * MiB, bytesAll: 100 * 1024 * MiB }],
  ])('%s: no line is wider than the terminal, and the ETA is on every bar line', async (_name, label, total) => {
    const term = fakeTerminal(columns);
    const view = ttyProgress(label, term.stream, total);
    const total1 = 10 * 1024 * MiB;
    view.update({ bytesDone: 0, bytesTotal: total1, partsDone: 0, partsTotal: 2048, bytesThisRun: 0 });
    await new Promise((r) => setTimeout(r, 300)); // a rate, hence an ETA
    view.update({ bytesDone: 1234 * MiB, bytesTotal: total1, partsDone: 246, partsTotal: 2048, bytesThisRun: 1234 * MiB });
    view.stop();
    const bars = term.lines();
    expect(bars.length).toBeGreaterThan(0);
    for (const line of bars) {
      expect([...line].length).toBeLessThanOrEqual(columns);
      // The whole ETA, at the end: "ETA -" (no rate yet), "ETA 2.5 s", "ETA 340 ms", "ETA 12m05s".
      expect(line).toMatch(/ETA (-|\d+ ms|\d+\.\d s|\d+m\d\ds)$/);
    }
    expect(bars.some((l) => l.includes('%'))).toBe(true);
  });
});

describe('layoutBar', () => {
  const chars = { complete: '#', incomplete: '-' };
  const fields = {
    label: '/home/someone/datasets/2026/survey-images-full-resolution-archive.tar',
    progress: 0.5,
    sizes: '5.0 GiB / 10.0 GiB',
    parts: '1024/2048 parts',
    speed: '85.0 MiB/s',
    eta: '1m00s',
  };

  test('at every width from 20 to 200 columns the line fits and ends with the whole ETA', () => {
    for (let w = 20; w <= 200; w++) {
      const line = layoutBar(w, fields, chars);
      expect([...line].length).toBeLessThan(w);
      expect(line).toMatch(/ 50% .*ETA 1m00s$/);
    }
  });

  test('with room to spare, the whole label, all statistics and a 40-column bar', () => {
    const line = layoutBar(200, fields, chars);
    expect(line).toBe(`${fields.label} [${'#'.repeat(20)}${'-'.repeat(20)}]  50% | 5.0 GiB / 10.0 GiB | 1024/2048 parts | 85.0 MiB/s | ETA 1m00s`);
  });

  test('a long path is cut from the left, keeping the file name; the bar shrinks before anything is dropped', () => {
    const line = layoutBar(120, fields, chars);
    expect(line).toMatch(/^…\S*images-full-resolution-archive\.tar \[#+-+\]  50% \| 5\.0 GiB \/ 10\.0 GiB \| 1024\/2048 parts \| 85\.0 MiB\/s \| ETA 1m00s$/);
    expect([...line].length).toBe(119);
  });

  test('at 80 columns the part count goes first; narrower, the sizes, then the speed', () => {
    expect(layoutBar(80, { ...fields, label: 'big.bin' }, chars)).toMatch(/^big\.bin \[#+-+\]  50% \| 5\.0 GiB \/ 10\.0 GiB \| 85\.0 MiB\/s \| ETA 1m00s$/);
    expect(layoutBar(60, { ...fields, label: 'big.bin' }, chars)).toMatch(/^big\.bin \[#+-+\]  50% \| 85\.0 MiB\/s \| ETA 1m00s$/);
    expect(layoutBar(40, { ...fields, label: 'big.bin' }, chars)).toMatch(/^big\.bin \[#+-+\]  50% \| ETA 1m00s$/);
  });
});
