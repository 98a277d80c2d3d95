/** Init validation: the part plan for files above 10,000 x 5 MiB (issue 9, defect 2). */
import { ApiError } from '../../lambdas/core/errors.js';
import { GiB, MiB, S3_LIMITS, TiB } from '../../contract/limits.js';
import { checkInit } from '../../lambdas/core/validation.js';

const limits = { minPartSize: 5 * MiB, maxFileSize: S3_LIMITS.maxObjectSize, defaultChunkSize: 5 * MiB };
const init = (body: Record<string, unknown>) => checkInit({ filename: 'big.bin', ...body }, limits);

function refusal(body: Record<string, unknown>, l: typeof limits = limits): ApiError {
  try {
    checkInit({ filename: 'big.bin', ...body }, l);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('no chunk_size: 5 MiB, 8 MiB from 128 MiB, raised to the smallest whole MiB that fits 10,000 parts', () => {
  test.each([
    ['1 byte', 1, 5 * MiB, 1],
    ['one byte under 128 MiB', 128 * MiB - 1, 5 * MiB, 26],
    ['128 MiB', 128 * MiB, 8 * MiB, 16],
    ['10,000 x 5 MiB', 10_000 * 5 * MiB, 8 * MiB, 6250],
    ['exactly 10,000 x 8 MiB', 10_000 * 8 * MiB, 8 * MiB, 10_000],
    ['one byte more', 10_000 * 8 * MiB + 1, 9 * MiB, 8889],
    ['60 GiB', 60 * GiB, 8 * MiB, 7680],
    ['100 GiB', 100 * GiB, 11 * MiB, 9310],
    ['5 TiB (the S3 object limit)', 5 * TiB, 525 * MiB, 9987],
  ])('%s', (_name, fileSize, chunkSize, totalParts) => {
    expect(init({ file_size: fileSize }).plan).toEqual({ fileSize, chunkSize, totalParts });
  });

  test('5 TiB + 1 byte is refused as too large (413), not planned', () => {
    const e = refusal({ file_size: 5 * TiB + 1 });
    expect({ code: e.code, status: e.status }).toEqual({ code: 'file_too_large', status: 413 });
  });
});

describe('an explicit chunk_size is kept, or refused with the size that would fit', () => {
  test('kept when it fits', () => {
    expect(init({ file_size: 60 * GiB, chunk_size: 8 * MiB }).plan).toEqual({ fileSize: 60 * GiB, chunkSize: 8 * MiB, totalParts: 7680 });
  });

  test('too small for the part count: 400 naming the smallest chunk size that fits', () => {
    const e = refusal({ file_size: 60 * GiB, chunk_size: 5 * MiB });
    expect(e.status).toBe(400);
    expect(e.message).toBe(
      'chunk_size 5242880 splits the file into 12288 parts; S3 allows 10000. Use a chunk_size of at least 7340032 bytes',
    );
  });

  test('the suggested size respects a lowered minimum part size (test clusters)', () => {
    const e = refusal({ file_size: 20 * GiB, chunk_size: 1 * MiB }, { ...limits, minPartSize: 1 * MiB });
    expect(e.message).toContain('at least 3145728 bytes');
  });
});
