/**
 * Filename rules. The filename is metadata chosen by the caller: it is normalised, checked,
 * and only ever used as the last segment of an object key we build, never as a path.
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

/** The object key of a session: the prefix, the session id, then the checked base name. */
export function objectKeyFor(prefix: string, sessionId: string, filename: string): string {
  return `${prefix}${sessionId}/${filename}`;
}
