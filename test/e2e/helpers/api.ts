/**
 * Small API client for e2e tests: JSON in and out, the target's token, raw bodies and headers
 * when a test needs to send something no well-behaved client would.
 */
import { randomBytes } from 'node:crypto';
import type { InitResponse } from '../../../contract/api.js';
import { apiFetch, type E2ETarget } from './cloud.js';
import { md5Base64 } from './storage.js';

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  body: any;
}

export interface CallOptions {
  /** Sent as JSON (with `content-type: application/json` unless `headers` says otherwise). */
  json?: unknown;
  /** Sent as is. */
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
  /** Exactly this Authorization header (`null`: none); default: the target's token. */
  authorization?: string | null;
}

export async function call(t: E2ETarget, method: string, path: string, o: CallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers };
  if (typeof o.authorization === 'string') headers.authorization = o.authorization;
  const body = o.json !== undefined ? JSON.stringify(o.json) : o.raw;
  // With an explicit choice, the target's own token is not added.
  const target = o.authorization !== undefined ? { ...t, token: undefined } : t;
  const res = await apiFetch(path, { method, headers, ...(body !== undefined ? { body: body as RequestInit['body'] } : {}) }, target);
  let parsed: unknown;
  try {
    parsed = res.text ? JSON.parse(res.text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, text: res.text, body: parsed };
}

/** A new session; fails the test unless the API answers 201. */
export async function initSession(t: E2ETarget, fileSize: number, filename = `e2e-${randomBytes(4).toString('hex')}.bin`): Promise<InitResponse> {
  const r = await call(t, 'POST', '/upload/init', { json: { filename, file_size: fileSize } });
  if (r.status !== 201) throw new Error(`init: expected 201, got ${r.status} ${r.text}`);
  return r.body as InitResponse;
}

/**
 * Asks for a URL bound to `md5` (by default the bytes' own) for one part and PUTs `bytes` to it;
 * returns storage's answer.
 */
export async function putPart(
  t: E2ETarget,
  sessionId: string,
  partNumber: number,
  bytes: Uint8Array,
  md5 = md5Base64(bytes),
): Promise<{ status: number; etag: string | null; text: string }> {
  const r = await call(t, 'POST', `/upload/${sessionId}/parts`, { json: { parts: [{ part_number: partNumber, md5 }] } });
  if (r.status !== 200) throw new Error(`parts: expected 200, got ${r.status} ${r.text}`);
  const part = r.body.parts[0] as { url: string; headers: Record<string, string> };
  const res = await fetch(part.url, { method: 'PUT', headers: part.headers, body: bytes });
  return { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
}

/** Best effort: aborts sessions a test left open, so they do not count against the owner's cap. */
export async function abortQuietly(t: E2ETarget, sessionIds: Iterable<string>): Promise<void> {
  await Promise.all([...sessionIds].map((id) => call(t, 'DELETE', `/upload/${id}`).catch(() => undefined)));
}
