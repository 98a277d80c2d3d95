/** Directory runs: globs, the worker budget, the tree walk, the run journal, and uploadTree's bookkeeping. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeBudget, WorkerBudget } from '../../client/budget.js';
import { globMatcher, pathFilter } from '../../client/glob.js';
import { RunJournal } from '../../client/run-state.js';
import { walkTree, type TreeEntry } from '../../client/tree-walk.js';
import { uploadTree, type FileOutcome, type TreeFileRef, type TreeFileUploadOptions } from '../../client/tree-upload.js';
import { InterruptedError, MpuError } from '../../client/errors.js';
import type { UploadResult } from '../../client/upload.js';
import { MiB } from '../../contract/limits.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-tree-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('globs', () => {
  test.each([
    ['*.log', 'a/b/c.log', true],
    ['*.log', 'c.log', true],
    ['*.log', 'c.log.gz', false],
    ['logs/**', 'logs/a/b.txt', true],
    ['logs/**', 'x/logs/b.txt', false],
    ['a/**/b.txt', 'a/b.txt', true],
    ['a/**/b.txt', 'a/x/y/b.txt', true],
    ['a/*.txt', 'a/x/b.txt', false],
    ['?.bin', 'dir/x.bin', true],
    ['[ab].bin', 'b.bin', true],
    ['[!ab].bin', 'b.bin', false],
    ['f(1)+.txt', 'f(1)+.txt', true],
    ['ünï*', 'd/ünïcødé', true],
  ])('%s against %s: %s', (pattern, path, want) => {
    expect(globMatcher(pattern)(path)).toBe(want);
  });

  test('an exclude wins over an include; no include takes everything', () => {
    const f = pathFilter(['*.txt'], ['secret*']);
    expect(f('a/b.txt')).toBe(true);
    expect(f('a/secret.txt')).toBe(false);
    expect(f('a/b.bin')).toBe(false);
    expect(pathFilter([], ['*.tmp'])('x/y.bin')).toBe(true);
  });
});

describe('WorkerBudget', () => {
  test('never hands out more than its size, first come first served', async () => {
    const b = new WorkerBudget(4);
    const order: string[] = [];
    const big = await b.take(3);
    const small = b.take(2).then((give) => (order.push('second'), give));
    const third = b.take(1).then((give) => (order.push('third'), give));
    await new Promise((r) => setImmediate(r));
    // One slot is free, but the waiting request for two came first: the single one waits too.
    expect(order).toEqual([]);
    big();
    (await small)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
  });

  test('a request larger than the budget takes the whole budget', async () => {
    const b = new WorkerBudget(2);
    const give = await b.take(10);
    let got = false;
    void b.take(1).then(() => (got = true));
    await new Promise((r) => setImmediate(r));
    expect(got).toBe(false);
    give();
    await new Promise((r) => setImmediate(r));
    expect(got).toBe(true);
  });
});

describe('walkTree', () => {
  const collect = async (root: string, opts = {}) => {
    const out: TreeEntry[] = [];
    for await (const e of walkTree(root, opts)) out.push(e);
    return out;
  };

  test('regular files below, sorted, with / paths; links reported, not followed', async () => {
    mkdirSync(join(dir, 'b/c'), { recursive: true });
    writeFileSync(join(dir, 'b/c/z.bin'), 'zz');
    writeFileSync(join(dir, 'a.txt'), '');
    writeFileSync(join(dir, 'b/日本.txt'), 'x');
    symlinkSync(join(dir, 'a.txt'), join(dir, 'b/link'));
    symlinkSync(dir, join(dir, 'b/loop'));
    const entries = await collect(dir);
    expect(entries.map((e) => [e.kind, e.relativePath, e.kind === 'file' ? e.size : e.reason])).toEqual([
      ['file', 'a.txt', 0],
      ['file', 'b/c/z.bin', 2],
      ['skip', 'b/link', 'symlink'],
      ['skip', 'b/loop', 'symlink'],
      ['file', 'b/日本.txt', 1],
    ]);
  });

  test('with followSymlinks, a linked file is read and a link back up is not a loop forever', async () => {
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd/f'), 'abc');
    symlinkSync(join(dir, 'd/f'), join(dir, 'linked'));
    symlinkSync(dir, join(dir, 'd/up'));
    const entries = await collect(dir, { followSymlinks: true });
    expect(entries.map((e) => [e.relativePath, e.kind === 'file' ? 'file' : e.reason])).toEqual([
      ['d/f', 'file'],
      ['d/up', 'loop'],
      ['linked', 'file'],
    ]);
  });

  test('the filter applies to files, directories are still entered', async () => {
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x/keep.txt'), '1');
    writeFileSync(join(dir, 'x/drop.bin'), '1');
    const entries = await collect(dir, { filter: pathFilter(['*.txt'], []) });
    expect(entries.map((e) => e.relativePath)).toEqual(['x/keep.txt']);
  });
});

describe('RunJournal', () => {
  const entry = (rel: string, mtime = 1000) => ({ rel, size: 4, mtime_ms: mtime, session_id: 's', file_path: `s3://b/${rel}`, etag: 'e', at: 'now' });

  test('remembers completed files across opens; a changed file is not done; a torn last line is ignored', () => {
    const state = join(dir, 'state');
    const j = RunJournal.open(state, 'http://api/', '/root');
    j.record(entry('a/1.bin'));
    j.record(entry('a/2.bin'));
    appendFileSync(j.file, '{"rel":"a/3.bin","size":4,"mti');
    const again = RunJournal.open(state, 'http://api', '/root');
    expect(again.completed('a/1.bin', 4, 1000)?.file_path).toBe('s3://b/a/1.bin');
    expect(again.completed('a/1.bin', 4, 2000)).toBeUndefined();
    expect(again.completed('a/1.bin', 5, 1000)).toBeUndefined();
    expect(again.completed('a/3.bin', 4, 1000)).toBeUndefined();
    // Another root or API has its own journal.
    expect(RunJournal.open(state, 'http://api', '/other').completed('a/1.bin', 4, 1000)).toBeUndefined();
    again.forget();
    expect(RunJournal.open(state, 'http://api', '/root').completed('a/2.bin', 4, 1000)).toBeUndefined();
  });
});

describe('uploadTree', () => {
  const file = (rel: string, size = 10, journal?: RunJournal): TreeFileRef => ({ path: `/x/${rel}`, relativePath: rel, size, mtimeMs: 1000, ...(journal ? { journal } : {}) });
  const result = (rel: string, size: number, resumed = false): UploadResult => ({
    session_id: `sid-${rel}`,
    file: rel,
    file_path: `s3://b/${rel}`,
    size,
    etag: 'e',
    parts_already_stored: 0,
    bytes_sent: size,
    parts_sent: 1,
    parts_total: 1,
    chunk_size: 5 * MiB,
    resumed,
    duration_ms: 1,
    timings: { init_ms: 0, verify_ms: 0, upload_ms: 0, complete_ms: 0 },
  });

  test('skips journaled files, records new ones, reports each outcome, and counts them', async () => {
    const j = RunJournal.open(join(dir, 'st'), 'http://api', '/root');
    j.record({ rel: 'old.bin', size: 10, mtime_ms: 1000, session_id: 'old', file_path: 's3://b/old.bin', etag: 'e0', at: 'x' });
    const files = [file('old.bin', 10, j), file('new.bin', 10, j), file('again.bin', 10, j), file('bad.bin', 10, j)];
    const outcomes: FileOutcome[] = [];
    const summary = await uploadTree(files, {
      budget: 4,
      onOutcome: (o) => outcomes.push(o),
      uploadFile: async (o) => {
        if (o.filename === 'bad.bin') throw new MpuError('boom', 'refused');
        return result(o.filename!, 10, o.filename === 'again.bin');
      },
    });
    expect(summary).toMatchObject({ uploaded: 1, resumed: 1, skipped: 1, failed: 1, notStarted: 0, bytesSent: 20, interrupted: false });
    expect(outcomes.find((o) => o.status === 'skipped')).toMatchObject({ file_path: 's3://b/old.bin', session_id: 'old' });
    const reopened = RunJournal.open(join(dir, 'st'), 'http://api', '/root');
    expect(reopened.completed('new.bin', 10, 1000)?.session_id).toBe('sid-new.bin');
    expect(reopened.completed('bad.bin', 10, 1000)).toBeUndefined();
  });

  test('parts in flight across files never exceed the budget; a big file gets its share', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: Record<string, number> = {};
    const files = [file('big.bin', 40 * MiB), ...Array.from({ length: 12 }, (_, i) => file(`s${i}.bin`, 100))];
    await uploadTree(files, {
      budget: 6,
      uploadFile: async (o) => {
        const n = o.concurrency as number;
        asked[o.filename!] = n;
        inFlight += n;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= n;
        return result(o.filename!, 1);
      },
    });
    expect(most).toBeLessThanOrEqual(6);
    expect(asked['big.bin']).toBe(6);
    expect(asked['s0.bin']).toBe(1);
  });

  test('adaptive: each file runs auto with its slots as its maximum and the memory its slots hold', async () => {
    let inFlight = 0;
    let most = 0;
    const asked: Record<string, Pick<TreeFileUploadOptions, 'concurrency' | 'maxConcurrency' | 'maxMemory'>> = {};
    const files = [file('big.bin', 40 * MiB), ...Array.from({ length: 12 }, (_, i) => file(`s${i}.bin`, 100))];
    await uploadTree(files, {
      budget: 6,
      adaptive: true,
      maxMemory: 30 * MiB,
      uploadFile: async (o) => {
        asked[o.filename!] = { concurrency: o.concurrency, maxConcurrency: o.maxConcurrency, maxMemory: o.maxMemory };
        inFlight += o.maxConcurrency!;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= o.maxConcurrency!;
        return result(o.filename!, 1);
      },
    });
    expect(most).toBeLessThanOrEqual(6);
    expect(asked['big.bin']).toEqual({ concurrency: 'auto', maxConcurrency: 6, maxMemory: 30 * MiB });
    // One slot holds one part buffer: a small file cannot read ahead beyond the run's budget.
    expect(asked['s0.bin']).toEqual({ concurrency: 'auto', maxConcurrency: 1, maxMemory: 5 * MiB });
  });

  test('the run budget: N when fixed; for auto the part buffers the memory budget holds, at most 64', () => {
    expect(treeBudget(3, undefined, 5 * MiB)).toBe(3);
    expect(treeBudget(3, 5 * MiB, 5 * MiB)).toBe(3);
    expect(treeBudget('auto', undefined, 5 * MiB)).toBe(51);
    expect(treeBudget('auto', 64 * MiB, 16 * MiB)).toBe(4);
    expect(treeBudget('auto', 1 * MiB, 16 * MiB)).toBe(1);
    expect(treeBudget('auto', 10 * 1024 * MiB, 5 * MiB)).toBe(64);
  });

  test('a stop leaves later files unstarted and marks the run interrupted', async () => {
    const stop = new AbortController();
    const files = Array.from({ length: 10 }, (_, i) => file(`f${i}`));
    const summary = await uploadTree(files, {
      budget: 2,
      signal: stop.signal,
      uploadFile: async (o) => {
        if (o.filename === 'f1') {
          stop.abort();
          throw new InterruptedError('sid', 0);
        }
        return result(o.filename!, 10);
      },
    });
    expect(summary.interrupted).toBe(true);
    // The stopped file is resumable, not a failure.
    expect(summary).toMatchObject({ failed: 0, interruptedFiles: 1 });
    expect(summary.notStarted).toBeGreaterThan(0);
    expect(summary.uploaded + summary.interruptedFiles + summary.notStarted).toBe(10);
  });

  test('progress adds up the bytes of every file of the run', async () => {
    let last = { bytesDone: 0, bytesTotal: 0, filesDone: 0, filesTotal: 0 };
    await uploadTree([file('a', 30), file('b', 70)], {
      budget: 2,
      onProgress: (p) => (last = p),
      uploadFile: async (o) => {
        o.onProgress?.({ bytesDone: 5, bytesTotal: 0, partsDone: 0, partsTotal: 1, bytesThisRun: 5 });
        return result(o.filename!, 1);
      },
    });
    expect(last).toEqual({ bytesDone: 100, bytesTotal: 100, filesDone: 2, filesTotal: 2 });
  });
});
