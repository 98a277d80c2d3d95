import { runPool, WorkerPool } from '../../client/scheduler.js';

const source = (items: number[]) => {
  const queue = [...items];
  return async () => queue.shift();
};
const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

test('never more than `concurrency` handlers at once, all items handled', async () => {
  let active = 0;
  let peak = 0;
  const seen: number[] = [];
  await runPool(
    source(Array.from({ length: 50 }, (_, i) => i)),
    async (item) => {
      active++;
      peak = Math.max(peak, active);
      await tick(Math.random() * 3);
      seen.push(item);
      active--;
    },
    { concurrency: 4 },
  );
  expect(peak).toBe(4);
  expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
});

test('the first error stops taking items, aborts the others, and is rethrown', async () => {
  let taken = 0;
  const next = async () => (taken < 100 ? ++taken : undefined);
  const aborted: number[] = [];
  await expect(
    runPool(
      next,
      async (item, signal) => {
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

describe('WorkerPool: the worker count follows limit()', () => {
  /** Items that finish when the test says so, so the pool's state can be read between steps. */
  const gated = (count: number) => {
    const queue = Array.from({ length: count }, (_, i) => i);
    const running = new Map<number, { release: () => void }>();
    const next = async () => queue.shift();
    const handle = (item: number) => new Promise<void>((release) => running.set(item, { release: () => (running.delete(item), release()) }));
    const finishOne = async (item?: number) => {
      const key = item ?? [...running.keys()][0]!;
      running.get(key)!.release();
      await tick();
    };
    return { next, handle, running, finishOne };
  };

  test('grows on resize(), shrinks as items end, grows again', async () => {
    let limit = 2;
    const g = gated(40);
    const pool = new WorkerPool(g.next, g.handle, { limit: () => limit });
    const done = pool.run();
    await tick();
    expect(g.running.size).toBe(2);

    limit = 6;
    pool.resize();
    await tick();
    expect(g.running.size).toBe(6);

    limit = 3;
    // Shrinking never cuts a running item: each worker leaves after its current one.
    expect(g.running.size).toBe(6);
    for (let i = 0; i < 3; i++) await g.finishOne();
    expect(g.running.size).toBe(3);
    await g.finishOne();
    expect(g.running.size).toBe(3);

    limit = 5;
    pool.resize();
    await tick();
    expect(g.running.size).toBe(5);

    while (g.running.size > 0) await g.finishOne();
    await done;
    expect(g.running.size).toBe(0);
  });

  test('a limit below 1 keeps one worker; an item end picks up a larger limit without resize()', async () => {
    let limit = 0;
    const g = gated(10);
    const pool = new WorkerPool(g.next, g.handle, { limit: () => limit });
    const done = pool.run();
    await tick();
    expect(g.running.size).toBe(1);
    limit = 3;
    await g.finishOne();
    expect(g.running.size).toBe(3);
    while (g.running.size > 0) await g.finishOne();
    await done;
  });

  test('the first failure still stops a dynamic pool', async () => {
    let taken = 0;
    const pool = new WorkerPool(
      async () => (taken < 100 ? ++taken : undefined),
      async (item) => {
        await tick(1);
        if (item === 5) throw new Error('boom');
      },
      { limit: () => Math.min(8, taken + 1) },
    );
    await expect(pool.run()).rejects.toThrow('boom');
    expect(taken).toBeLessThan(30);
  });
});
