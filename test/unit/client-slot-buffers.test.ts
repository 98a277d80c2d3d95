import { SlotBuffers } from '../../client/engine/slot-buffers.js';

test('one buffer per slot, reused for every part of the slot, freed by release', () => {
  const b = new SlotBuffers(1024);
  const first = b.get(0);
  expect(first.length).toBe(1024);
  expect(b.get(0)).toBe(first);
  expect(b.get(3)).not.toBe(first);
  expect([b.count, b.bytes]).toEqual([2, 2048]);
  b.release(0);
  expect([b.count, b.bytes]).toEqual([1, 1024]);
  // A slot used again after its release gets a new buffer (the old one can be collected).
  expect(b.get(0)).not.toBe(first);
  b.releaseAll();
  expect(b.count).toBe(0);
});
