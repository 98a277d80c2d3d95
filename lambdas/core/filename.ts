/**
 * Filename rules. The filename is metadata chosen by the caller: it is normalised, checked,
 * and only ever used as the tail of an object key we build, never as a path on any file system.
 * It is a base name, or a relative path whose `/`-separated segments are each a valid base name
 * (so `..`, `.`, empty segments, a leading `/` and backslashes can never appear).
 */
import { API_LIMITS } from '../../contract/limits.js';

// C0 and C1 control characters, DEL, and Unicode line/paragraph separators and bidi overrides,
// which make logs and consoles lie about a name.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

// A lone UTF-16 surrogate (JSON allows "\ud800"): not Unicode text, so it has no UTF-8 form and
// cannot be part of an object key (the SDK's URI encoding throws on it, which surfaced as a 500).
// With the `u` flag a well-formed pair is one code point, so only lone halves match.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

export type FilenameCheck = { ok: true; filename: string } | { ok: false; reason: string };

export function checkFilename(raw: string): FilenameCheck {
  if (LONE_SURROGATE.test(raw)) return { ok: false, reason: 'filename must be valid Unicode text (it has a lone surrogate)' };
  const filename = raw.normalize('NFC');
  if (filename.trim().length === 0) return { ok: false, reason: 'filename must not be blank' };
  if (Buffer.byteLength(filename, 'utf8') > API_LIMITS.maxFilenameLength) {
    return { ok: false, reason: `filename must be at most ${API_LIMITS.maxFilenameLength} bytes of UTF-8` };
  }
  if (FORBIDDEN.test(filename)) return { ok: false, reason: 'filename must not contain control characters' };
  if (filename.includes('/') || filename.includes('\\')) {
    return { ok: false, reason: 'filename must be a base name without path separators' };
  }
  if (filename === '.' || filename === '..') return { ok: false, reason: 'filename must not be "." or ".."' };
  return { ok: true, filename };
}

/**
 * A relative path `dir/sub/name`: every `/`-separated segment passes checkFilename (an absolute
 * path or `a//b` has an empty segment, `a/../b` a `..` one), and the whole fits the key budget.
 * A path of one segment is exactly a base name.
 */
export function checkRelativePath(raw: string): FilenameCheck {
  if (LONE_SURROGATE.test(raw)) return { ok: false, reason: 'filename must be valid Unicode text (it has a lone surrogate)' };
  const path = raw.normalize('NFC');
  if (Buffer.byteLength(path, 'utf8') > API_LIMITS.maxRelativePathLength) {
    return { ok: false, reason: `filename (a relative path) must be at most ${API_LIMITS.maxRelativePathLength} bytes of UTF-8` };
  }
  const segments = path.split('/');
  if (segments.length === 1) return checkFilename(raw);
  if (segments[0] === '') return { ok: false, reason: 'filename must be a relative path, not an absolute one (it starts with "/")' };
  for (const [i, segment] of segments.entries()) {
    if (segment === '') return { ok: false, reason: `filename must not have an empty path segment (segment ${i + 1})` };
    const one = checkFilename(segment);
    if (!one.ok) return { ok: false, reason: `path segment ${i + 1}: ${one.reason}` };
  }
  return { ok: true, filename: path };
}

/** The object key of a session: the prefix, the session id, then the checked base name. */
export function objectKeyFor(prefix: string, sessionId: string, filename: string): string {
  return `${prefix}${sessionId}/${filename}`;
}
