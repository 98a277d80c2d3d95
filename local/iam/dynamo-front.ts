/**
 * The DynamoDB policy front: an HTTP proxy on 127.0.0.1 in front of DynamoDB Local that does
 * what IAM does in front of DynamoDB, for the functions' credentials.
 *
 * DynamoDB Local neither verifies signatures nor knows IAM. The front reads the SigV4 access key
 * id, verifies the signature with that function's secret, maps the call to the IAM actions and
 * resources it needs (dynamo-actions.ts), evaluates them against the function's role statements
 * (policy.ts), and answers a refusal exactly as DynamoDB does (HTTP 400,
 * `com.amazon.coral.service#AccessDeniedException`), so the SDK throws AccessDeniedException.
 * Allowed calls are forwarded byte for byte. Every function call, allowed or not, is reported to
 * `onCall` (the least-privilege report). The local cloud's own credentials (tests, operators)
 * pass unchecked: they stand for an administrator, not for a function.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { operationOf, requiredPermissions, UnmappedOperationError, type RequiredPermission } from './dynamo-actions.js';
import type { FunctionIdentity } from './identities.js';
import { evaluate, type Decision } from './policy.js';
import { MalformedAuthorizationError, parseAuthorization, signatureMatches } from './sigv4.js';

/** One checked DynamoDB call of a function, per permission it needed. */
export interface DynamoCallRecord {
  service: 'dynamodb';
  functionId: string;
  operation: string;
  action: string;
  resource: string;
  decision: Decision;
  at: string;
}

export interface DynamoFrontOptions {
  /** DynamoDB Local, e.g. `http://127.0.0.1:8000`. */
  upstream: string;
  region: string;
  identities: readonly FunctionIdentity[];
  /** Access key ids that pass unchecked (the local cloud's administrator). */
  adminAccessKeyIds: readonly string[];
  onCall?: (record: DynamoCallRecord) => void;
  /** Refusals and unmapped calls, for the cloud's log. */
  log?: (line: string) => void;
  /** Default: a free port. */
  port?: number;
}

export interface DynamoFront {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** DynamoDB's own limit on a request body is 16 MB (BatchWriteItem); anything larger is not DynamoDB traffic. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface Refusal {
  status: number;
  type: string;
  /** DynamoDB spells the field `Message` in AccessDeniedException and `message` in the auth errors. */
  body: Record<string, string>;
}

const coral = (name: string) => `com.amazon.coral.service#${name}`;

export const REFUSALS = {
  missingAuth: (): Refusal => ({ status: 400, type: 'MissingAuthenticationTokenException', body: { message: 'Request is missing Authentication Token' } }),
  malformed: (why: string): Refusal => ({ status: 400, type: 'IncompleteSignatureException', body: { message: why } }),
  unknownKey: (): Refusal => ({ status: 400, type: 'UnrecognizedClientException', body: { message: 'The security token included in the request is invalid.' } }),
  badSignature: (): Refusal => ({
    status: 400,
    type: 'InvalidSignatureException',
    body: {
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    },
  }),
  /** The wording of DynamoDB's refusal (identity-based policy, no Allow / an explicit Deny). */
  accessDenied: (principal: string, p: RequiredPermission, decision: Decision): Refusal => ({
    status: 400,
    type: 'AccessDeniedException',
    body: {
      Message:
        `User: ${principal} is not authorized to perform: ${p.action} on resource: ${p.resource} because ` +
        (decision === 'explicit-deny' ? `of an explicit deny in an identity-based policy` : `no identity-based policy allows the ${p.action} action`),
    },
  }),
  unmapped: (why: string): Refusal => ({ status: 500, type: 'InternalFailure', body: { message: `local IAM front: ${why}` } }),
} as const;

function answer(res: ServerResponse, r: Refusal): void {
  const body = JSON.stringify({ __type: coral(r.type), ...r.body });
  res.writeHead(r.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What the front decides for one request, before any I/O to DynamoDB Local: pure. */
export type Verdict = { kind: 'forward'; records: Omit<DynamoCallRecord, 'at'>[] } | { kind: 'refuse'; refusal: Refusal; records: Omit<DynamoCallRecord, 'at'>[] };

export function decide(
  req: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer },
  o: { region: string; byKeyId: ReadonlyMap<string, FunctionIdentity>; admins: ReadonlySet<string> },
): Verdict {
  const header = req.headers.authorization;
  if (!header) return { kind: 'refuse', refusal: REFUSALS.missingAuth(), records: [] };
  let auth;
  try {
    auth = parseAuthorization(header);
  } catch (e) {
    if (e instanceof MalformedAuthorizationError) return { kind: 'refuse', refusal: REFUSALS.malformed(e.message), records: [] };
    throw e;
  }
  if (o.admins.has(auth.accessKeyId)) return { kind: 'forward', records: [] };
  const identity = o.byKeyId.get(auth.accessKeyId);
  if (!identity) return { kind: 'refuse', refusal: REFUSALS.unknownKey(), records: [] };
  if (!signatureMatches(req, auth, identity.secretAccessKey)) return { kind: 'refuse', refusal: REFUSALS.badSignature(), records: [] };

  const target = req.headers['x-amz-target'];
  let operation: string;
  let needed: RequiredPermission[];
  try {
    operation = operationOf(Array.isArray(target) ? target[0] : target);
    needed = requiredPermissions(operation, JSON.parse(req.body.toString('utf8')) as unknown, o.region);
  } catch (e) {
    if (e instanceof UnmappedOperationError || e instanceof SyntaxError) return { kind: 'refuse', refusal: REFUSALS.unmapped(e.message), records: [] };
    throw e;
  }
  const records = needed.map((p) => ({
    service: 'dynamodb' as const,
    functionId: identity.functionId,
    operation,
    action: p.action,
    resource: p.resource,
    decision: evaluate(identity.policy, p.action, p.resource),
  }));
  // Like IAM, the first permission refused is the one named (a transaction is all or nothing).
  const refused = records.find((r) => r.decision !== 'allow');
  if (refused) {
    return { kind: 'refuse', refusal: REFUSALS.accessDenied(identity.principalArn, refused, refused.decision), records };
  }
  return { kind: 'forward', records };
}

export async function startDynamoFront(o: DynamoFrontOptions): Promise<DynamoFront> {
  const byKeyId = new Map(o.identities.map((i) => [i.accessKeyId, i]));
  const admins = new Set(o.adminAccessKeyIds);
  const upstream = new URL(o.upstream);
  // Keep-alive to DynamoDB Local: a new TCP connection per call would add its cost to each one.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    // DynamoDB Local down (a fault test stopped it): drop the connection, so the SDK sees the
    // same network error as without the front.
    up.on('error', () => res.destroy());
    up.end(body);
  };

  const server = createServer((req, res) => {
    readBody(req).then(
      (body) => {
        const verdict = decide({ method: req.method ?? 'POST', url: req.url ?? '/', headers: req.headers, body }, { region: o.region, byKeyId, admins });
        const at = new Date().toISOString();
        for (const r of verdict.records) o.onCall?.({ ...r, at });
        if (verdict.kind === 'forward') return forward(req, body, res);
        o.log?.(`iam: dynamodb ${verdict.refusal.type}: ${JSON.stringify(verdict.refusal.body)}`);
        answer(res, verdict.refusal);
      },
      () => res.destroy(),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
