import { countParts, missingParts, partSize, planParts } from '../../contract/parts.js';
import { MiB } from '../../contract/limits.js';

test('a 0-byte file is one empty part', () => {
  const plan = planParts(0, 5 * MiB);
  expect(plan.totalParts).toBe(1);
  expect(partSize(plan, 1)).toBe(0);
});

test('last part carries the remainder', () => {
  const plan = planParts(12 * MiB + 3, 5 * MiB);
  expect(plan.totalParts).toBe(3);
  expect([1, 2, 3].map((n) => partSize(plan, n))).toEqual([5 * MiB, 5 * MiB, 2 * MiB + 3]);
  expect(countParts(10 * MiB, 5 * MiB)).toBe(2);
  expect(missingParts(4, [1, 3])).toEqual([2, 4]);
});
