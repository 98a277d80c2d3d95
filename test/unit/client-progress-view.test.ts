import { plainProgress } from '../../client/cli/progress-view.js';
import type { UploadProgress } from '../../client/progress.js';
import { MiB } from '../../lambdas/core/limits.js';

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
