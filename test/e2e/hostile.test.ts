/**
 * Hostile requests: every one gets its documented 4xx with a JSON error body, and none leaves a
 * session row or a multipart upload behind.
 *
 * Local target: a private API (own DynamoDB table and gateway) with a private bucket on the
 * shared RGW, so "nothing new" is an exact count: Scan of the table, ListMultipartUploads of the
 * bucket, before and after each request. Deployed target: the stack's table and bucket are
 * shared with the other test files, so only rows and uploads carrying this run's marker count.
 *
 * Credentials: missing, malformed, unknown, wrong-secret, revoked and expired tokens on every
 * route (API Gateway's 401/403, no route runs), and another owner's session ids (404, exactly as
 * for an unknown session). test/e2e/auth.test.ts covers the `mpu-admin token` tool and the owner
 * isolation of whole uploads.
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TokenStore } from '../../lambdas/aws/token-store.js';
import { newToken, tokenRecord } from '../../lambdas/core/tokens.js';
import { API_LIMITS, GiB, KiB, MiB, S3_LIMITS, TiB } from '../../contract/limits.js';
import { abortQuietly, call, initSession, type ApiAnswer } from './helpers/api.js';
import { dynamoClient, e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { countSessionRows, listUploads, md5Base64, scanSessions } from './helpers/storage.js';

jest.setTimeout(60_000);

/** Marks every filename this run sends, so leftovers are recognisable on a shared table. */
const MARK = `hostile-${randomBytes(4).toString('hex')}`;

let priv: PrivateCloud | undefined;
let t: E2ETarget;
let s3: S3Client;
let db: DynamoDBClient;
/** A session of 3 parts (11 MiB), and one of 600 parts (nothing is ever uploaded to either). */
let small: string;
let wide: string;
const opened: string[] = [];
/** Tokens made for this run (revoked at the end): another owner's, a revoked one, an expired one. */
let tokens: TokenStore | undefined;
const madeTokens: string[] = [];
let otherOwner: string;
let revoked: string;
let expired: string;
let wrongSecret: string;
let unknownToken: string;

beforeAll(async () => {
  const shared = e2eTarget();
  if (shared.kind === 'local') {
    priv = await startPrivateCloud({ privateBucket: 'hostile' });
    t = priv.target;
  } else {
    t = shared;
  }
  if (!t.table) throw new Error('the e2e target names no sessions table');
  s3 = s3Client(t);
  db = dynamoClient(t);
  if (!t.tokensTable || !t.token) throw new Error('the e2e target names no API token or tokens table (the API has an authorizer)');
  tokens = new TokenStore(DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } }), t.tokensTable);
  const now = new Date();
  const make = async (owner: string, opts: { expiresAt?: Date } = {}) => {
    const made = newToken();
    await tokens!.create(tokenRecord(made, owner, now, { description: `e2e ${MARK}`, ...opts }));
    madeTokens.push(made.tokenId);
    return made;
  };
  otherOwner = (await make(`${MARK}-other`)).token;
  const toRevoke = await make(`${MARK}-revoked`);
  await tokens.revoke(toRevoke.tokenId, now);
  revoked = toRevoke.token;
  expired = (await make(`${MARK}-expired`, { expiresAt: new Date(now.getTime() - 1000) })).token;
  const mine = /^mpu_([a-z2-7]{12})_/.exec(t.token)![1]!;
  wrongSecret = `mpu_${mine}_${newToken().secret}`;
  unknownToken = newToken().token;
  small = (await initSession(t, 11 * MiB, `${MARK}-small.bin`)).session_id;
  wide = (await initSession(t, 600 * 5 * MiB, `${MARK}-wide.bin`)).session_id;
  opened.push(small, wide);
}, 120_000);

afterAll(async () => {
  if (t) await abortQuietly(t, opened);
  await Promise.all(madeTokens.map((id) => tokens?.revoke(id, new Date()).catch(() => undefined)));
  s3?.destroy();
  db?.destroy();
  await priv?.stop();
}, 60_000);

interface Snapshot {
  rows: number;
  uploads: number;
}

async function snapshot(): Promise<Snapshot> {
  if (priv) {
    const [rows, uploads] = await Promise.all([countSessionRows(db, t.table!), listUploads(s3, t.bucket)]);
    return { rows, uploads: uploads.length };
  }
  // Shared table and bucket: count only what this run's marker names. Rows without a filename
  // are the owners' open-session counts and the Idempotency-Keys (aws/session-store.ts).
  const [rows, uploads] = await Promise.all([scanSessions(db, t.table!), listUploads(s3, t.bucket)]);
  return {
    rows: rows.filter((r) => typeof r.filename === 'string' && (r.filename.includes(MARK) || r.filename === '.' || r.filename === '..')).length,
    uploads: uploads.filter((u) => u.key.includes(MARK)).length,
  };
}

type Expect =
  /** The API's own error: `{error, message}` with this code. */
  | { status: number; error: string }
  /** API Gateway's answer (no Lambda ran): `{message}`. */
  | { status: number; gateway: string };

interface Case {
  name: string;
  method: string;
  /** A function, because the fixture sessions exist only once beforeAll ran. */
  path: () => string;
  json?: () => unknown;
  raw?: () => string | Uint8Array;
  headers?: Record<string, string>;
  /** The Authorization header (`null`: none); default: the target's own valid token. */
  authorization?: () => string | null;
  expect: Expect;
}

const init = (body: unknown): Pick<Case, 'method' | 'path' | 'json'> => ({ method: 'POST', path: () => '/upload/init', json: () => body });
const file = (name = 'f.bin') => `${MARK}-${name}`;
const bad = (error = 'validation_error', status = 400): Expect => ({ status, error });
const validInit = { filename: file(), file_size: 1 * MiB };
const FORGED = 'AAAAAAAAAAAAAAAAAAAAAA';
const parts = (sid: () => string, body: unknown): Pick<Case, 'method' | 'path' | 'json'> => ({
  method: 'POST',
  path: () => `/upload/${sid()}/parts`,
  json: () => body,
});
const complete = (sid: () => string, body?: unknown): Pick<Case, 'method' | 'path' | 'json'> => ({
  method: 'POST',
  path: () => `/upload/${sid()}/complete`,
  ...(body !== undefined ? { json: () => body } : {}),
});
const smallId = () => small;
const wideId = () => wide;
const md5Of15Bytes = Buffer.alloc(15).toString('base64');

const CASES: Case[] = [
  // --- malformed bodies ---------------------------------------------------------------------
  { name: 'truncated JSON', method: 'POST', path: () => '/upload/init', raw: () => `{"filename": "${file()}", "file_size": `, headers: { 'content-type': 'application/json' }, expect: bad() },
  { name: 'not JSON at all', method: 'POST', path: () => '/upload/init', raw: () => 'filename=x&file_size=1', headers: { 'content-type': 'application/json' }, expect: bad() },
  { name: 'JSON with a byte order mark', method: 'POST', path: () => '/upload/init', raw: () => `\ufeff${JSON.stringify(validInit)}`, headers: { 'content-type': 'application/json' }, expect: bad() },
  { name: 'a JSON array', ...init([validInit]), expect: bad() },
  { name: 'JSON null', ...init(null), expect: bad() },
  { name: 'a JSON string', ...init('{"filename":"x"}'), expect: bad() },
  { name: 'a JSON number', ...init(42), expect: bad() },
  { name: 'no body', method: 'POST', path: () => '/upload/init', expect: bad() },
  { name: 'deeply nested JSON', method: 'POST', path: () => '/upload/init', raw: () => `{"filename":${'['.repeat(20_000)}${']'.repeat(20_000)},"file_size":1}`, headers: { 'content-type': 'application/json' }, expect: bad() },
  // --- wrong types -----------------------------------------------------------------------------
  { name: 'filename is a number', ...init({ filename: 42, file_size: 1 }), expect: bad() },
  { name: 'filename is null', ...init({ filename: null, file_size: 1 }), expect: bad() },
  { name: 'filename is an array', ...init({ filename: [file()], file_size: 1 }), expect: bad() },
  { name: 'file_size is a numeric string', ...init({ filename: file(), file_size: '1048576' }), expect: bad() },
  { name: 'file_size is a boolean', ...init({ filename: file(), file_size: true }), expect: bad() },
  // Without file_size an init opens a stream session (docs/api.md); null is not "absent".
  { name: 'file_size is null', ...init({ filename: file(), file_size: null }), expect: bad() },
  { name: 'a stream with a chunk_size below the minimum', ...init({ filename: file(), chunk_size: 1 * MiB }), expect: bad() },
  { name: 'chunk_size is a size string', ...init({ ...validInit, chunk_size: '5MiB' }), expect: bad() },
  { name: 'content_type is a number', ...init({ ...validInit, content_type: 42 }), expect: bad() },
  // --- sizes -------------------------------------------------------------------------------------
  { name: 'negative file_size', ...init({ filename: file(), file_size: -1 }), expect: bad() },
  { name: 'fractional file_size', ...init({ filename: file(), file_size: 1.5 }), expect: bad() },
  { name: 'file_size one byte over 5 TiB', ...init({ filename: file(), file_size: 5 * TiB + 1, chunk_size: 5 * GiB }), expect: bad('file_too_large', 413) },
  { name: 'file_size 2^53 (not a safe integer)', ...init({ filename: file(), file_size: 2 ** 53 }), expect: bad() },
  { name: 'file_size 1e400 (Infinity once parsed)', method: 'POST', path: () => '/upload/init', raw: () => `{"filename":"${file()}","file_size":1e400}`, headers: { 'content-type': 'application/json' }, expect: bad() },
  { name: 'chunk_size 0', ...init({ ...validInit, chunk_size: 0 }), expect: bad() },
  { name: 'negative chunk_size', ...init({ ...validInit, chunk_size: -5 * MiB }), expect: bad() },
  { name: 'fractional chunk_size', ...init({ ...validInit, chunk_size: 5 * MiB + 0.5 }), expect: bad() },
  { name: 'chunk_size one byte below 5 MiB', ...init({ ...validInit, chunk_size: S3_LIMITS.minPartSize - 1 }), expect: bad() },
  { name: 'chunk_size over 5 GiB', ...init({ ...validInit, chunk_size: 5 * GiB + 1 }), expect: bad() },
  { name: '10,001 parts', ...init({ filename: file(), file_size: 10_001 * 5 * MiB, chunk_size: 5 * MiB }), expect: bad() },
  { name: '5 TiB at 5 MiB chunks (too many parts)', ...init({ filename: file(), file_size: 5 * TiB, chunk_size: 5 * MiB }), expect: bad() },
  // --- filenames ---------------------------------------------------------------------------------
  { name: 'empty filename', ...init({ filename: '', file_size: 1 }), expect: bad() },
  { name: 'blank filename', ...init({ filename: ' \t ', file_size: 1 }), expect: bad() },
  { name: 'filename "."', ...init({ filename: '.', file_size: 1 }), expect: bad() },
  { name: 'filename ".."', ...init({ filename: '..', file_size: 1 }), expect: bad() },
  { name: 'traversal ../../', ...init({ filename: `../../${file()}`, file_size: 1 }), expect: bad() },
  { name: 'absolute path', ...init({ filename: `/etc/${file()}`, file_size: 1 }), expect: bad() },
  { name: 'backslash traversal', ...init({ filename: `..\\..\\${file()}`, file_size: 1 }), expect: bad() },
  { name: 'NUL byte', ...init({ filename: `${file()}\u0000.jpg`, file_size: 1 }), expect: bad() },
  { name: 'newline (log injection)', ...init({ filename: `${file()}\n{"level":"ERROR"}`, file_size: 1 }), expect: bad() },
  { name: 'carriage return', ...init({ filename: `${file()}\r`, file_size: 1 }), expect: bad() },
  { name: 'DEL', ...init({ filename: `${file()}\u007f`, file_size: 1 }), expect: bad() },
  { name: 'C1 control (NEL)', ...init({ filename: `${file()}\u0085`, file_size: 1 }), expect: bad() },
  { name: 'right-to-left override (txt.exe trick)', ...init({ filename: `${file('invoice')}\u202Etxt.exe`, file_size: 1 }), expect: bad() },
  { name: 'bidi isolate', ...init({ filename: `${file()}\u2066x`, file_size: 1 }), expect: bad() },
  { name: 'line separator U+2028', ...init({ filename: `${file()}\u2028`, file_size: 1 }), expect: bad() },
  { name: 'lone surrogate (not Unicode text)', ...init({ filename: `${file()}\ud800.bin`, file_size: 1 }), expect: bad() },
  { name: 'filename of 256 UTF-8 bytes', ...init({ filename: `${MARK}${'é'.repeat((256 - MARK.length) / 2)}`, file_size: 1 }), expect: bad() },
  // --- unknown fields, bad content types -----------------------------------------------------------
  { name: 'unknown field', ...init({ ...validInit, owner: 'root' }), expect: bad() },
  { name: 'status smuggled into init', ...init({ ...validInit, status: 'completed' }), expect: bad() },
  { name: '__proto__ key', method: 'POST', path: () => '/upload/init', raw: () => `{"filename":"${file()}","file_size":1,"__proto__":{"owner":"root"}}`, headers: { 'content-type': 'application/json' }, expect: bad() },
  { name: 'content_type with a header injection', ...init({ ...validInit, content_type: 'text/html\r\nx-amz-acl: public-read' }), expect: bad() },
  { name: 'content_type without a subtype', ...init({ ...validInit, content_type: 'text' }), expect: bad() },
  { name: 'content_type of 300 characters', ...init({ ...validInit, content_type: `application/${'x'.repeat(288)}` }), expect: bad() },
  { name: 'text/plain body', method: 'POST', path: () => '/upload/init', raw: () => JSON.stringify(validInit), headers: { 'content-type': 'text/plain' }, expect: bad('unsupported_media_type', 415) },
  { name: 'form-encoded body', method: 'POST', path: () => '/upload/init', raw: () => `filename=${file()}&file_size=1`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: bad('unsupported_media_type', 415) },
  { name: 'binary body', method: 'POST', path: () => '/upload/init', raw: () => randomBytes(512), headers: { 'content-type': 'application/octet-stream' }, expect: bad('unsupported_media_type', 415) },
  // --- Idempotency-Key (1 to 255 visible ASCII characters) ------------------------------------------
  { name: 'Idempotency-Key empty', ...init(validInit), headers: { 'idempotency-key': '' }, expect: bad() },
  { name: 'Idempotency-Key of 256 characters', ...init(validInit), headers: { 'idempotency-key': 'k'.repeat(256) }, expect: bad() },
  { name: 'Idempotency-Key with a space', ...init(validInit), headers: { 'idempotency-key': 'a b' }, expect: bad() },
  { name: 'Idempotency-Key with a non-ASCII character', ...init(validInit), headers: { 'idempotency-key': 'cl\u00e9' }, expect: bad() },
  // --- oversized bodies ----------------------------------------------------------------------------
  { name: 'body one byte over 64 KiB', method: 'POST', path: () => '/upload/init', raw: () => paddedJson(API_LIMITS.maxBodyBytes + 1), headers: { 'content-type': 'application/json' }, expect: bad('payload_too_large', 413) },
  { name: 'filename of 70 KiB', ...init({ filename: file('x'.repeat(70 * KiB)), file_size: 1 }), expect: bad('payload_too_large', 413) },
  { name: 'parts body over 64 KiB', ...parts(wideId, { parts: Array.from({ length: 500 }, (_, i) => ({ part_number: i + 1, md5: md5Base64(Buffer.from([i])) + ' '.repeat(100) })) }), expect: bad('payload_too_large', 413) },
  { name: 'body over 10 MB (API Gateway limit)', method: 'POST', path: () => '/upload/init', raw: () => paddedJson(10 * MiB + 1), headers: { 'content-type': 'application/json' }, expect: { status: 413, gateway: 'Request Entity Too Large' } },
  // --- forged and malformed session ids --------------------------------------------------------------
  { name: 'unknown session: status', method: 'GET', path: () => `/upload/${FORGED}/status`, expect: bad('not_found', 404) },
  { name: 'unknown session: parts', ...parts(() => FORGED, { parts: [{ part_number: 1 }] }), expect: bad('not_found', 404) },
  { name: 'unknown session: complete', ...complete(() => FORGED), expect: bad('not_found', 404) },
  { name: 'unknown session: abort', method: 'DELETE', path: () => `/upload/${FORGED}`, expect: bad('not_found', 404) },
  { name: 'a real id with one character changed', method: 'GET', path: () => `/upload/${small.slice(0, -1)}${small.endsWith('A') ? 'B' : 'A'}/status`, expect: bad('not_found', 404) },
  { name: 'session id too short', method: 'GET', path: () => '/upload/abc/status', expect: bad() },
  { name: 'session id too long', method: 'GET', path: () => `/upload/${FORGED}A/status`, expect: bad() },
  { name: 'session id with a dot', method: 'DELETE', path: () => `/upload/${FORGED.slice(1)}.`, expect: bad() },
  { name: 'session id that is an encoded traversal', method: 'GET', path: () => '/upload/..%2F..%2F..%2Fetc%2Fpasswd/status', expect: bad() },
  { name: 'session id with an encoded NUL', method: 'POST', path: () => `/upload/${FORGED}%00/complete`, expect: bad() },
  { name: 'session id with malformed percent-encoding', method: 'GET', path: () => '/upload/%E0%A4%A/status', expect: { status: 404, gateway: 'Not Found' } },
  { name: 'raw traversal in the path', method: 'GET', path: () => '/upload/../../status', expect: { status: 404, gateway: 'Not Found' } },
  { name: 'a method the route table lacks', method: 'PUT', path: () => '/upload/init', json: () => validInit, expect: { status: 404, gateway: 'Not Found' } },
  // --- part numbers and MD5s ----------------------------------------------------------------------
  { name: 'part_number 0', ...parts(smallId, { parts: [{ part_number: 0 }] }), expect: bad() },
  { name: 'negative part_number', ...parts(smallId, { parts: [{ part_number: -1 }] }), expect: bad() },
  { name: 'part_number beyond total_parts', ...parts(smallId, { parts: [{ part_number: 4 }] }), expect: bad() },
  { name: 'part_number 10,001', ...parts(smallId, { parts: [{ part_number: 10_001 }] }), expect: bad() },
  { name: 'fractional part_number', ...parts(smallId, { parts: [{ part_number: 1.5 }] }), expect: bad() },
  { name: 'part_number as a string', ...parts(smallId, { parts: [{ part_number: '1' }] }), expect: bad() },
  { name: 'repeated part_number', ...parts(smallId, { parts: [{ part_number: 2 }, { part_number: 2 }] }), expect: bad() },
  { name: '501 parts in one request', ...parts(wideId, { parts: Array.from({ length: 501 }, (_, i) => ({ part_number: i + 1 })) }), expect: bad() },
  { name: 'empty parts list', ...parts(smallId, { parts: [] }), expect: bad() },
  { name: 'parts is not a list', ...parts(smallId, { parts: 'all' }), expect: bad() },
  { name: 'unknown field in a part', ...parts(smallId, { parts: [{ part_number: 1, size: 5 * MiB }] }), expect: bad() },
  { name: 'md5 not base64', ...parts(smallId, { parts: [{ part_number: 1, md5: 'not-an-md5!' }] }), expect: bad() },
  { name: 'md5 as hex', ...parts(smallId, { parts: [{ part_number: 1, md5: 'd41d8cd98f00b204e9800998ecf8427e' }] }), expect: bad() },
  { name: 'md5 of 15 bytes', ...parts(smallId, { parts: [{ part_number: 1, md5: md5Of15Bytes }] }), expect: bad() },
  { name: 'md5 with a header injection', ...parts(smallId, { parts: [{ part_number: 1, md5: `${md5Base64(Buffer.alloc(0))}\r\nx: y` }] }), expect: bad() },
  // --- complete ------------------------------------------------------------------------------------
  { name: 'complete with part_number 0', ...complete(smallId, { parts: [{ part_number: 0, etag: '"x"' }] }), expect: bad() },
  { name: 'complete with a numeric etag', ...complete(smallId, { parts: [{ part_number: 1, etag: 5 }] }), expect: bad() },
  { name: 'complete with an unknown field', ...complete(smallId, { parts: [], force: true }), expect: bad() },
  { name: 'complete before any part is stored', ...complete(smallId), expect: bad('missing_parts', 409) },
  // --- credentials (API Gateway answers; no route runs) ---------------------------------------
  ...credentialCases(),
  // --- another owner's sessions: indistinguishable from sessions that do not exist --------------
  { name: "another owner: status of the caller's session", method: 'GET', path: () => `/upload/${small}/status`, authorization: () => `Bearer ${otherOwner}`, expect: bad('not_found', 404) },
  { name: "another owner: parts of the caller's session", ...parts(smallId, { parts: [{ part_number: 1 }] }), authorization: () => `Bearer ${otherOwner}`, expect: bad('not_found', 404) },
  { name: "another owner: complete of the caller's session", ...complete(smallId), authorization: () => `Bearer ${otherOwner}`, expect: bad('not_found', 404) },
  { name: "another owner: abort of the caller's session", method: 'DELETE', path: () => `/upload/${small}`, authorization: () => `Bearer ${otherOwner}`, expect: bad('not_found', 404) },
];

/** Every route, with each kind of bad credential. */
function credentialCases(): Case[] {
  const routes: Array<Pick<Case, 'method' | 'path' | 'json'> & { what: string }> = [
    { what: 'init', ...init(validInit) },
    { what: 'parts', ...parts(smallId, { parts: [{ part_number: 1 }] }) },
    { what: 'status', method: 'GET', path: () => `/upload/${small}/status` },
    { what: 'complete', ...complete(smallId) },
    { what: 'abort', method: 'DELETE', path: () => `/upload/${small}` },
  ];
  const unauthorized: Expect = { status: 401, gateway: 'Unauthorized' };
  const forbidden: Expect = { status: 403, gateway: 'Forbidden' };
  const creds: Array<[string, () => string | null, Expect]> = [
    ['no Authorization header', () => null, unauthorized],
    ['an empty Authorization header', () => '', unauthorized],
    ['Basic credentials', () => `Basic ${Buffer.from('admin:admin').toString('base64')}`, forbidden],
    ['a bearer token that is not an mpu token', () => 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0.', forbidden],
    ['the token without the Bearer scheme', () => t.token!, forbidden],
    ['two tokens', () => `Bearer ${t.token} ${t.token}`, forbidden],
    ['a well-formed token nobody issued', () => `Bearer ${unknownToken}`, forbidden],
    ["a real token id with another secret", () => `Bearer ${wrongSecret}`, forbidden],
    ['a revoked token', () => `Bearer ${revoked}`, forbidden],
    ['an expired token', () => `Bearer ${expired}`, forbidden],
  ];
  const cases: Case[] = [];
  for (const [credName, authorization, expect] of creds) {
    for (const r of routes) {
      cases.push({ name: `${credName}: ${r.what}`, method: r.method, path: r.path, ...(r.json ? { json: r.json } : {}), authorization, expect });
    }
  }
  return cases;
}

/** Valid init JSON padded with whitespace to exactly `bytes` bytes. */
function paddedJson(bytes: number): string {
  const core = JSON.stringify({ filename: file(), file_size: 1 });
  return `${core.slice(0, -1)}${' '.repeat(bytes - core.length)}}`;
}

function expectShape(r: ApiAnswer, e: Expect): void {
  const seen = { status: r.status, contentType: r.headers.get('content-type'), body: r.body };
  if ('error' in e) {
    expect(seen).toEqual({
      status: e.status,
      contentType: expect.stringMatching(/^application\/json/),
      body: expect.objectContaining({ error: e.error, message: expect.any(String) }),
    });
    expect(r.body.message.length).toBeGreaterThan(0);
  } else {
    expect(seen).toEqual({ status: e.status, contentType: expect.stringMatching(/^application\/json/), body: { message: e.gateway } });
  }
}

describe('hostile requests get their documented 4xx and leave nothing behind', () => {
  // Each case is judged against the state the previous one left: on the private table and bucket
  // nothing else writes, on a shared one only this run's marked rows and uploads are counted.
  let last: Snapshot;
  beforeAll(async () => {
    last = await snapshot();
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = last;
    const r = await call(t, c.method, c.path(), {
      ...(c.json ? { json: c.json() } : {}),
      ...(c.raw ? { raw: c.raw() } : {}),
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.authorization ? { authorization: c.authorization() } : {}),
    });
    if (r.status === 201 && typeof r.body?.session_id === 'string') opened.push(r.body.session_id);
    last = await snapshot();
    expectShape(r, c.expect);
    expect(r.status).toBeLessThan(500);
    expect(last).toEqual(before);
  });

  test('an Idempotency-Key sent again with another request: 422, and nothing new is left behind', async () => {
    const key = `${MARK}-${randomBytes(8).toString('hex')}`;
    const first = await call(t, 'POST', '/upload/init', { json: validInit, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    opened.push(first.body.session_id as string);
    const before = await snapshot();
    const again = await call(t, 'POST', '/upload/init', { json: { ...validInit, file_size: validInit.file_size + 1 }, headers: { 'idempotency-key': key } });
    expect(again).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect(await snapshot()).toEqual(before);
  });

  test('the fixture sessions were not changed by any of it', async () => {
    for (const sid of [small, wide]) {
      const r = await call(t, 'GET', `/upload/${sid}/status`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: 'in_progress', completed_parts: [], bytes_uploaded: 0 });
    }
  });
});

describe('names that only look dangerous are stored as one key segment', () => {
  // Not path separators for S3 (only '/' is), not control characters: accepted, and the object key
  // is exactly `<prefix><session_id>/<NFC name>`, one segment under the session.
  test.each([
    ['fullwidth solidus', `${MARK}\uFF0Fetc\uFF0Fpasswd`],
    ['division slash', `${MARK}\u2215x`],
    ['percent-encoded traversal as literal text', `${MARK}%2e%2e%2fx`],
    ['decomposed accent (stored as NFC)', `${MARK}-cafe\u0301.txt`],
    ['leading dots', `..${MARK}`],
  ])('%s', async (_what, filename) => {
    const r = await call(t, 'POST', '/upload/init', { json: { filename, file_size: 1 } });
    expect(r.status).toBe(201);
    const sid = r.body.session_id as string;
    opened.push(sid);
    const uploads = await listUploads(s3, t.bucket);
    const mine = uploads.filter((u) => u.key.includes(sid));
    expect(mine).toHaveLength(1);
    const key = mine[0]!.key;
    expect(key.endsWith(`${sid}/${filename.normalize('NFC')}`)).toBe(true);
    expect(key.split('/').filter(Boolean).length).toBe(key.split('/').length);
    expect(key.split('/').pop()).toBe(filename.normalize('NFC'));
  });
});
