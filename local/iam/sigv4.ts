/**
 * AWS Signature Version 4 for header-signed requests (the SDK's DynamoDB calls): who signed, and
 * whether the signature is right for that signer's secret.
 *
 * The DynamoDB front needs both: the access key id names the function, and without checking the
 * signature any code could claim another function's key id and its permissions. DynamoDB Local
 * itself reads the key id but never verifies the signature. Pure (node:crypto only).
 * Algorithm: AWS General Reference, "Create a signed AWS API request" (canonical request,
 * string to sign, derived signing key).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

export interface SigV4Authorization {
  accessKeyId: string;
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** The header is missing or not a SigV4 header. */
export class MalformedAuthorizationError extends Error {
  override readonly name = 'MalformedAuthorizationError';
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(header: string | undefined): SigV4Authorization {
  if (!header) throw new MalformedAuthorizationError('no Authorization header');
  const [algorithm, ...rest] = header.trim().split(/\s+/);
  if (algorithm !== SIGV4_ALGORITHM) throw new MalformedAuthorizationError(`unsupported algorithm ${algorithm}`);
  const fields = new Map<string, string>();
  for (const part of rest.join(' ').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || credential.length !== 5 || credential[4] !== 'aws4_request' || !signedHeaders || !signature) {
    throw new MalformedAuthorizationError('Authorization header lacks Credential, SignedHeaders or Signature');
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

export interface SignedRequest {
  method: string;
  /** Path and query as sent, e.g. `/` or `/a?b=c`. */
  url: string;
  /** Header values by lower-case name (as node:http gives them). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 requires. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf('=');
      const k = decodeURIComponent((eq < 0 ? p : p.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, ' '));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Each path segment encoded once for S3, twice for every other service (the SDK's `uriEscapePath`). */
function canonicalPath(path: string, service: string): string {
  const once = (seg: string) => uriEncode(decodeURIComponent(seg));
  return path
    .split('/')
    .map((seg) => (service === 's3' ? once(seg) : uriEncode(once(seg))))
    .join('/');
}

function headerValue(v: string | string[] | undefined): string {
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

/** The signature `secretAccessKey` would give this request (the SDK's algorithm, re-done). */
export function expectedSignature(req: SignedRequest, auth: SigV4Authorization, secretAccessKey: string): string {
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const names = [...auth.signedHeaders].map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names.map((h) => `${h}:${headerValue(req.headers[h])}\n`).join('');
  // The body's own hash, never a hash the request claims: a body changed after signing must fail.
  // Only S3 lets a signer leave the payload out of the signature.
  const claimed = headerValue(req.headers['x-amz-content-sha256']);
  const payloadHash = auth.service === 's3' && claimed === 'UNSIGNED-PAYLOAD' ? claimed : sha256(req.body);
  const canonicalRequest = [req.method.toUpperCase(), canonicalPath(path, auth.service), canonicalQuery(query), canonicalHeaders, names.join(';'), payloadHash].join('\n');
  const amzDate = headerValue(req.headers['x-amz-date']);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, amzDate, scope, sha256(canonicalRequest)].join('\n');
  const kDate = hmac(`AWS4${secretAccessKey}`, auth.date);
  const kSigning = hmac(hmac(hmac(kDate, auth.region), auth.service), 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

export function signatureMatches(req: SignedRequest, auth: SigV4Authorization, secretAccessKey: string): boolean {
  // The date must be signed and agree with the credential scope, or an old signature could be
  // replayed under a new scope.
  if (!auth.signedHeaders.map((h) => h.toLowerCase()).includes('x-amz-date')) return false;
  if (!headerValue(req.headers['x-amz-date']).startsWith(auth.date)) return false;
  const expected = Buffer.from(expectedSignature(req, auth, secretAccessKey), 'utf8');
  const given = Buffer.from(auth.signature, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * Signs a request in place (headers `host`, `x-amz-date`, `x-amz-content-sha256`,
 * `authorization`): for the few admin calls the local cloud makes itself (RGW's admin API).
 */
export function signRequest(
  req: { method: string; url: string; host: string; headers: Record<string, string>; body: Buffer },
  credentials: { accessKeyId: string; secretAccessKey: string },
  scope: { region: string; service: string },
  now = new Date(),
): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    host: req.host,
    'x-amz-date': amzDate,
    'x-amz-content-sha256': sha256(req.body),
  };
  const auth: SigV4Authorization = {
    accessKeyId: credentials.accessKeyId,
    date: amzDate.slice(0, 8),
    region: scope.region,
    service: scope.service,
    signedHeaders: Object.keys(headers).sort(),
    signature: '',
  };
  const signature = expectedSignature({ method: req.method, url: req.url, headers, body: req.body }, auth, credentials.secretAccessKey);
  const credential = `${auth.accessKeyId}/${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return { ...headers, authorization: `${SIGV4_ALGORITHM} Credential=${credential}, SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${signature}` };
}
