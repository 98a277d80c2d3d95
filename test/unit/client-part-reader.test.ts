import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partOffset, partSize, planParts, type PartPlan } from '../../contract/parts.js';
import { FileMismatchError } from '../../client/errors.js';
import { md5 } from '../../client/hashing.js';
import { hashRange } from '../../client/node-md5.js';
import { FileSource } from '../../client/file-source.js';

const readPart = (src: FileSource, plan: PartPlan, n: number, buf: Uint8Array) => src.read(partOffset(plan, n), partSize(plan, n), buf).then((b) => Buffer.from(b.buffer, b.byteOffset, b.length));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-reader-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('reads each part range into the reused buffer, last part short', async () => {
  const data = randomBytes(10_000);
  const file = join(dir, 'a.bin');
  writeFileSync(file, data);
  const plan = planParts(data.length, 3000);
  const reader = await FileSource.open(file);
  const buf = Buffer.alloc(3000);
  try {
    for (let n = 1; n <= plan.totalParts; n++) {
      const part = await readPart(reader, plan, n, buf);
      expect(part.buffer).toBe(buf.buffer); // a view of the reused buffer, not a copy
      expect(part.equals(data.subarray((n - 1) * 3000, n * 3000))).toBe(true);
    }
    expect((await readPart(reader, plan, 4, buf)).length).toBe(1000);
    expect(Buffer.from(await reader.read(2999, 2, buf)).equals(data.subarray(2999, 3001))).toBe(true);
  } finally {
    await reader.close();
  }
});

test('hashRange hashes through a small scratch buffer', async () => {
  const data = randomBytes(7_777);
  const file = join(dir, 'b.bin');
  writeFileSync(file, data);
  const plan = planParts(data.length, 5000);
  const reader = await FileSource.open(file);
  try {
    const scratch = Buffer.alloc(1024);
    expect((await hashRange(reader, partOffset(plan, 1), partSize(plan, 1), scratch)).equals(md5(data.subarray(0, 5000)))).toBe(true);
    expect((await hashRange(reader, partOffset(plan, 2), partSize(plan, 2), scratch)).equals(md5(data.subarray(5000)))).toBe(true);
  } finally {
    await reader.close();
  }
});

test('an empty file is one empty part', async () => {
  const file = join(dir, 'empty.bin');
  writeFileSync(file, '');
  const plan = planParts(0, 5000);
  const reader = await FileSource.open(file);
  try {
    expect((await readPart(reader, plan, 1, Buffer.alloc(1))).length).toBe(0);
    expect((await hashRange(reader, partOffset(plan, 1), partSize(plan, 1), Buffer.alloc(16))).equals(md5(Buffer.alloc(0)))).toBe(true);
  } finally {
    await reader.close();
  }
});

test('a file that shrank is a FileMismatchError, never a short part', async () => {
  const file = join(dir, 'c.bin');
  writeFileSync(file, randomBytes(6000));
  const plan = planParts(6000, 4000);
  const reader = await FileSource.open(file);
  try {
    truncateSync(file, 5000);
    await expect(readPart(reader, plan, 2, Buffer.alloc(4000))).rejects.toBeInstanceOf(FileMismatchError);
  } finally {
    await reader.close();
  }
});

test('a buffer smaller than the range is refused', async () => {
  const file = join(dir, 'd.bin');
  writeFileSync(file, randomBytes(100));
  const reader = await FileSource.open(file);
  try {
    await expect(reader.read(0, 100, Buffer.alloc(10))).rejects.toThrow(RangeError);
  } finally {
    await reader.close();
  }
});
