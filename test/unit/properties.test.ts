/** Property-based tests (fast-check) for part maths and request validation. */
import fc from 'fast-check';
import { DEFAULTS, GiB, MiB, S3_LIMITS } from '../../contract/limits.js';
import { countParts, defaultChunkSize, minimumChunkSize, partOffset, partSize, planParts } from '../../contract/parts.js';
import { checkFilename } from '../../lambdas/core/filename.js';
import { checkInit } from '../../lambdas/core/validation.js';
import { ApiError } from '../../lambdas/core/errors.js';

const limits = { minPartSize: 5 * MiB, maxFileSize: S3_LIMITS.maxObjectSize, defaultChunkSize: 5 * MiB };

test('parts tile the file exactly: contiguous, full-size but the last, summing to the file size', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: S3_LIMITS.maxObjectSize }), fc.integer({ min: 5 * MiB, max: 5 * GiB }), (fileSize, chunk) => {
      const plan = planParts(fileSize, Math.max(chunk, minimumChunkSize(fileSize)));
      expect(plan.totalParts).toBeLessThanOrEqual(S3_LIMITS.maxParts);

      // Check the first, a middle and the last part rather than all 10,000.
      for (const n of new Set([1, Math.ceil(plan.totalParts / 2), plan.totalParts])) {
        const size = partSize(plan, n);
        if (n < plan.totalParts) expect(size).toBe(plan.chunkSize);
        else expect(partOffset(plan, n) + size).toBe(fileSize);
      }
      const sum = (plan.totalParts - 1) * plan.chunkSize + partSize(plan, plan.totalParts);
      expect(sum).toBe(fileSize);
      const last = partSize(plan, plan.totalParts);
      expect(last).toBeLessThanOrEqual(plan.chunkSize);
      expect(last > 0 || fileSize === 0).toBe(true);
    }),
  );
});

test('minimumChunkSize always fits S3: at least 5 MiB, at most 10,000 parts', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: S3_LIMITS.maxObjectSize }), (fileSize) => {
      const chunk = minimumChunkSize(fileSize);
      expect(chunk).toBeGreaterThanOrEqual(S3_LIMITS.minPartSize);
      expect(chunk).toBeLessThanOrEqual(S3_LIMITS.maxPartSize);
      expect(countParts(fileSize, chunk)).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    }),
  );
});

test('the default plan of any size up to 5 TiB fits S3: <= 10,000 parts, >= 5 MiB, whole MiB, and minimal', () => {
  // Near the 128 MiB step and the 10,000 x 8 MiB boundary as well as across the whole range.
  const size = fc.oneof(fc.integer({ min: 0, max: S3_LIMITS.maxObjectSize }), fc.integer({ min: 100 * MiB, max: 160 * MiB }), fc.integer({ min: 70 * GiB, max: 90 * GiB }));
  fc.assert(
    fc.property(size, (fileSize) => {
      const chunk = defaultChunkSize(fileSize);
      expect(countParts(fileSize, chunk)).toBeLessThanOrEqual(S3_LIMITS.maxParts);
      expect(chunk).toBeGreaterThanOrEqual(S3_LIMITS.minPartSize);
      expect(chunk).toBeLessThanOrEqual(S3_LIMITS.maxPartSize);
      expect(chunk % MiB).toBe(0);
      // Minimal: the preferred size (5 MiB, 8 MiB from 128 MiB), or one MiB less would need more than 10,000 parts.
      const preferred = fileSize >= DEFAULTS.largeFileSize ? DEFAULTS.largeFileChunkSize : DEFAULTS.chunkSize;
      if (chunk > preferred) expect(countParts(fileSize, chunk - MiB)).toBeGreaterThan(S3_LIMITS.maxParts);
      else expect(chunk).toBe(preferred);
      // The server plans an init without chunk_size by this same rule.
      expect(checkInit({ filename: 'a.bin', file_size: fileSize }, limits).plan!.chunkSize).toBe(chunk);
    }),
    { numRuns: 2000 },
  );
});

test('an accepted filename is NFC, short, and can never act as a path', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (raw) => {
      const r = checkFilename(raw);
      if (!r.ok) return;
      expect(r.filename).toBe(r.filename.normalize('NFC'));
      expect(Buffer.byteLength(r.filename)).toBeLessThanOrEqual(255);
      expect(r.filename).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
      expect(['.', '..']).not.toContain(r.filename);
    }),
  );
});

test('any JSON body is either accepted within S3 limits or refused with an ApiError (never a crash)', () => {
  const body = fc.oneof(
    fc.anything(),
    fc.record(
      {
        filename: fc.oneof(fc.string(), fc.constant('a.bin')),
        file_size: fc.oneof(fc.integer(), fc.double(), fc.constant(12 * MiB)),
        chunk_size: fc.oneof(fc.integer(), fc.constant(8 * MiB)),
        content_type: fc.oneof(fc.string(), fc.constant('video/mp4')),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(body, (b) => {
      try {
        const checked = checkInit(b, limits);
        // Without file_size (a stream) there is no plan yet: only the chunk size is fixed.
        expect(checked.plan?.totalParts ?? 0).toBeLessThanOrEqual(S3_LIMITS.maxParts);
        expect(checked.chunkSize).toBeGreaterThanOrEqual(5 * MiB);
      } catch (e) {
        expect(e).toBeInstanceOf(ApiError);
        expect((e as ApiError).status).toBeGreaterThanOrEqual(400);
        expect((e as ApiError).status).toBeLessThan(500);
      }
    }),
    { numRuns: 500 },
  );
});
