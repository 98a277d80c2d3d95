/** Property-based tests (fast-check) for relative paths in `filename` (checkRelativePath). */
import { posix } from 'node:path';
import fc from 'fast-check';
import { API_LIMITS } from '../../contract/limits.js';
import { checkFilename, checkRelativePath, objectKeyFor } from '../../lambdas/core/filename.js';

const SID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Strings built from path-ish characters, so '/', '.', '\\' and controls turn up often. */
const pathish = fc.string({ unit: fc.constantFrom('a', 'é', 'e\u0301', '/', '.', '\\', ' ', '\u0000', '\u001f', '\u202e', '\ud800', '日'), maxLength: 40 });
const safeSegment = fc.string({ unit: fc.constantFrom('a', 'b', '1', '-', '_', ' ', '.', 'é', '日', '😀'), minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '' && s !== '.' && s !== '..');

test('an accepted path is NFC, bounded, and its key stays below the session prefix', () => {
  fc.assert(
    fc.property(fc.oneof(pathish, fc.string({ unit: 'binary', maxLength: 300 })), (raw) => {
      const r = checkRelativePath(raw);
      if (!r.ok) return;
      expect(r.filename).toBe(r.filename.normalize('NFC'));
      expect(Buffer.byteLength(r.filename)).toBeLessThanOrEqual(API_LIMITS.maxRelativePathLength);
      for (const seg of r.filename.split('/')) {
        expect(seg).not.toBe('');
        expect(['.', '..']).not.toContain(seg);
        expect(seg).not.toMatch(/[\\\u0000-\u001f\u007f]/);
      }
      const key = objectKeyFor('uploads/', SID, r.filename);
      // Normalising cannot move the key: nothing in it climbs out of the session's folder.
      expect(posix.normalize(key)).toBe(key);
      expect(key.startsWith(`uploads/${SID}/`)).toBe(true);
    }),
    { numRuns: 3000 },
  );
});

test('segments that are valid base names join into an accepted path, unchanged once NFC', () => {
  fc.assert(
    fc.property(fc.array(safeSegment, { minLength: 1, maxLength: 8 }), (segments) => {
      const path = segments.join('/');
      const r = checkRelativePath(path);
      expect(r).toEqual({ ok: true, filename: path.normalize('NFC') });
    }),
  );
});

test('one hostile segment anywhere refuses the whole path', () => {
  const hostile = fc.constantFrom('..', '.', '', ' ', 'a\u0000b', 'x\\y', 'bad\u202e', '\ud800');
  fc.assert(
    fc.property(fc.array(safeSegment, { maxLength: 6 }), hostile, fc.nat(), (segments, bad, at) => {
      const i = segments.length === 0 ? 0 : at % (segments.length + 1);
      const path = [...segments.slice(0, i), bad, ...segments.slice(i)].join('/');
      expect(checkRelativePath(path).ok).toBe(false);
    }),
  );
});

test('a leading "/" (an absolute path) is always refused', () => {
  fc.assert(fc.property(fc.array(safeSegment, { minLength: 1, maxLength: 5 }), (segments) => expect(checkRelativePath(`/${segments.join('/')}`).ok).toBe(false)));
});

test('a single segment is judged exactly as a base name', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }).filter((s) => !s.includes('/')), (raw) => {
      expect(checkRelativePath(raw).ok).toBe(checkFilename(raw).ok);
    }),
  );
});
