import { runPool } from '../../client/scheduler.js';

const source = (items: number[]) => {
  const queue = [...items];
  return async () => queue.shift();
};
const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

test('never more than `concurrency` handlers at once, all items handled, slots stable', async () => {
  let active = 0;
  let peak = 0;
  const seen: number[] = [];
  const slots = new Set<number>();
  await runPool(
    source(Array.from({ length: 50 }, (_, i) => i)),
    async (item, slot) => {
      active++;
      peak = Math.max(peak, active);
      slots.add(slot);
      await tick(Math.random() * 3);
      seen.push(item);
      active--;
    },
    { concurrency: 4 },
  );
  expect(peak).toBe(4);
  expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect([...slots].sort()).toEqual([0, 1, 2, 3]);
});

test('the first error stops taking items, aborts the others, and is rethrown', async () => {
  let taken = 0;
  const next = async () => (taken < 100 ? ++taken : undefined);
  const aborted: number[] = [];
  await expect(
    runPool(
      next,
      async (item, _slot, signal) => {
        if (item === 3) throw new Error('boom');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            aborted.push(item);
            resolve();
          });
        });
      },
      { concurrency: 3 },
    ),
  ).rejects.toThrow('boom');
  expect(taken).toBeLessThan(10);
  expect(aborted.length).toBeGreaterThan(0);
});

test('a graceful stop lets running handlers finish and takes nothing new', async () => {
  const stop = new AbortController();
  const finished: number[] = [];
  let taken = 0;
  await runPool(
    async () => (taken < 100 ? ++taken : undefined),
    async (item) => {
      if (item === 2) stop.abort();
      await tick(5);
      finished.push(item);
    },
    { concurrency: 2, stop: stop.signal },
  );
  expect(finished.sort()).toEqual([1, 2]);
  expect(taken).toBe(2);
});

test('invalid concurrency is refused', async () => {
  await expect(runPool(source([]), async () => undefined, { concurrency: 0 })).rejects.toThrow(RangeError);
});
