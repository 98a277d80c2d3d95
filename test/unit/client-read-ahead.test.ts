import { PartBuffers } from '../../client/engine/part-buffers.js';
import { ReadAhead } from '../../client/engine/read-ahead.js';

/** A source of items 1..n whose preparation resolves when the test says so. */
function source(n: number) {
  const started: number[] = [];
  const pending = new Map<number, { resolve: (v: number) => void; reject: (e: Error) => void }>();
  let next = 1;
  const prepare = (): Promise<number | undefined> => {
    if (next > n) return Promise.resolve(undefined);
    const i = next++;
    started.push(i);
    return new Promise<number>((resolve, reject) => pending.set(i, { resolve, reject }));
  };
  const finish = (i: number) => pending.get(i)!.resolve(i);
  const fail = (i: number, e: Error) => pending.get(i)!.reject(e);
  return { prepare, started, finish, fail };
}

test('keeps depth items started behind the one taken, hands them out in order, then undefined', async () => {
  const s = source(5);
  const ahead = new ReadAhead(s.prepare, () => 2);
  const first = ahead.take();
  expect(s.started).toEqual([1, 2, 3]);
  // Items finish out of order; they come out in the order they were started.
  s.finish(3);
  s.finish(2);
  s.finish(1);
  expect(await first).toBe(1);
  expect(await ahead.take()).toBe(2);
  expect(s.started).toEqual([1, 2, 3, 4]);
  expect(await ahead.take()).toBe(3);
  s.finish(4);
  s.finish(5);
  expect(await ahead.take()).toBe(4);
  expect(await ahead.take()).toBe(5);
  expect(await ahead.take()).toBeUndefined();
  expect(await ahead.take()).toBeUndefined();
});

test('the depth is read at every take: 0 prepares only on demand', async () => {
  const s = source(4);
  let depth = 0;
  const ahead = new ReadAhead(s.prepare, () => depth);
  const a = ahead.take();
  expect(s.started).toEqual([1]);
  s.finish(1);
  expect(await a).toBe(1);
  depth = 1;
  const b = ahead.take();
  expect(s.started).toEqual([1, 2, 3]);
  s.finish(2);
  expect(await b).toBe(2);
});

test('a failure read ahead is not unhandled: it rejects the take that reaches it, and nothing more is started', async () => {
  const s = source(10);
  const ahead = new ReadAhead(s.prepare, () => 2);
  const first = ahead.take();
  s.fail(2, new Error('file shrank'));
  await new Promise((r) => setImmediate(r));
  s.finish(1);
  expect(await first).toBe(1);
  await expect(ahead.take()).rejects.toThrow('file shrank');
  expect(s.started).toEqual([1, 2, 3]);
});

test('leftovers: the items started and never taken, once settled', async () => {
  const s = source(10);
  const ahead = new ReadAhead(s.prepare, () => 2);
  const first = ahead.take();
  s.finish(1);
  s.finish(2);
  expect(await first).toBe(1);
  const rest = ahead.leftovers();
  s.finish(3);
  expect(await rest).toEqual([2, 3]);
  expect(s.started).toEqual([1, 2, 3]);
});

test('part buffers: reused once given back, kept only up to what the count may use', () => {
  let keep = 3;
  const b = new PartBuffers(1024, () => keep);
  const [x, y, z] = [b.take(), b.take(), b.take()];
  expect(x.length).toBe(1024);
  expect([b.count, b.bytes]).toEqual([3, 3072]);
  b.give(x);
  expect(b.take()).toBe(x);
  // The count shrank: buffers given back beyond it are dropped.
  keep = 1;
  b.give(y);
  b.give(z);
  expect(b.count).toBe(1);
  b.give(x);
  expect(b.count).toBe(1);
  expect(b.take()).toBe(x);
  b.clear();
  expect(b.count).toBe(1);
});
