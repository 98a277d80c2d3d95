/**
 * Filename rules. The filename is metadata chosen by the caller: it is normalised, checked,
 * and only ever used as the last segment of an object key we build, never as a path.
 */
import { API_LIMITS } from './limits.js';

// C0 and C1 control characters, DEL, and Unicode line/paragraph separators and bidi overrides,
// which make logs and consoles lie about a name.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export type FilenameCheck = { ok: true; filename: string } | { ok: false; reason: string };

export function checkFilename(raw: string): FilenameCheck {
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
