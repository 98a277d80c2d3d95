/**
 * Every IAM grant is exactly what the code calls (lib/access.ts). Each use case runs, path by
 * path, over the real stores and storage with recording fakes of the SDK clients; every SDK
 * command it sends is mapped to the IAM action AWS authorizes it by, on the resource it names.
 * Per function, the union over its paths must equal its grants: an action the code needs and the
 * role lacks fails here (AccessDenied on AWS), and so does a grant no path uses.
 */
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NoSuchUpload,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ACCESS, type Access, type FunctionId } from '../../lib/access.js';
import { loadConfig } from '../../lambdas/config.js';
import { SessionStore } from '../../lambdas/aws/session-store.js';
import { UploadStorage } from '../../lambdas/aws/storage.js';
import { TABLE } from '../../lambdas/aws/table-definition.js';
import { TokenStore } from '../../lambdas/aws/token-store.js';
import { isApiError } from '../../lambdas/core/errors.js';
import { MiB } from '../../contract/limits.js';
import type { SessionRecord } from '../../lambdas/core/session.js';
import { newToken, tokenRecord } from '../../lambdas/core/tokens.js';
import { ROUTES } from '../../contract/routes.js';
import { authorizeBearer } from '../../lambdas/service/authorize.js';
import type { Deps } from '../../lambdas/service/deps.js';
import { sweepExpired } from '../../lambdas/service/sweeper.js';
import { abortUpload, completeUpload, getStatus, initUpload, presignParts } from '../../lambdas/service/uploads.js';

const SESSIONS = 'sessions';
const TOKENS = 'tokens';
const SID = 'AAAAAAAAAAAAAAAAAAAAAA';
const OWNER = 'alice';

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);

type Resource = keyof Access;
type Granted = Record<Resource, Set<string>>;

const empty = (): Granted => ({
  table: new Set(),
  openSessionsIndex: new Set(),
  tokensTable: new Set(),
  objects: new Set(),
  bucket: new Set(),
});

/** The resource a DynamoDB request addresses: a table, or one of the sessions table's indexes. */
function tableResource(tableName: string | undefined, indexName?: string): Resource {
  if (tableName === TOKENS) return 'tokensTable';
  if (tableName !== SESSIONS) throw new Error(`unexpected table ${tableName}`);
  if (indexName === undefined) return 'table';
  if (indexName === TABLE.openSessionsIndex.name) return 'openSessionsIndex';
  throw new Error(`unexpected index ${indexName}`);
}

/** What AWS authorizes each recorded SDK command by (IAM Service Authorization Reference). */
function recordCalls(into: Granted): void {
  for (const call of ddb.calls()) {
    const cmd = call.args[0] as { input: any };
    const add = (resource: Resource, action: string) => into[resource].add(action);
    if (cmd instanceof GetCommand) add(tableResource(cmd.input.TableName), 'dynamodb:GetItem');
    else if (cmd instanceof PutCommand) add(tableResource(cmd.input.TableName), 'dynamodb:PutItem');
    else if (cmd instanceof UpdateCommand) add(tableResource(cmd.input.TableName), 'dynamodb:UpdateItem');
    else if (cmd instanceof QueryCommand) add(tableResource(cmd.input.TableName, cmd.input.IndexName), 'dynamodb:Query');
    else if (cmd instanceof ScanCommand) add(tableResource(cmd.input.TableName, cmd.input.IndexName), 'dynamodb:Scan');
    else if (cmd instanceof TransactWriteCommand) {
      // A transaction is authorized item by item, by the action of each part.
      for (const item of cmd.input.TransactItems ?? []) {
        if (item.Put) add(tableResource(item.Put.TableName), 'dynamodb:PutItem');
        if (item.Update) add(tableResource(item.Update.TableName), 'dynamodb:UpdateItem');
        if (item.Delete) add(tableResource(item.Delete.TableName), 'dynamodb:DeleteItem');
        if (item.ConditionCheck) add(tableResource(item.ConditionCheck.TableName), 'dynamodb:ConditionCheckItem');
      }
    } else throw new Error(`no IAM mapping for ${cmd.constructor.name}`);
  }
  for (const call of s3.calls()) {
    const cmd = call.args[0];
    // The multipart calls are authorized by object actions (S3 User Guide, "Multipart upload API and permissions").
    if (cmd instanceof CreateMultipartUploadCommand || cmd instanceof UploadPartCommand || cmd instanceof CompleteMultipartUploadCommand) {
      into.objects.add('s3:PutObject');
    } else if (cmd instanceof AbortMultipartUploadCommand) into.objects.add('s3:AbortMultipartUpload');
    else if (cmd instanceof ListPartsCommand) into.objects.add('s3:ListMultipartUploadParts');
    else if (cmd instanceof HeadObjectCommand) {
      into.objects.add('s3:GetObject');
      // Without it S3 answers a missing key 403, not 404, and "no object" could not be told apart.
      into.bucket.add('s3:ListBucket');
    } else throw new Error(`no IAM mapping for ${cmd.constructor.name}`);
  }
}

/** A presigned part URL is an UploadPart signed with the function's credentials: s3:PutObject. */
const presigned = jest.spyOn(UploadStorage.prototype, 'presignPart');

const clients = {
  s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }),
  db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }), {
    marshallOptions: { removeUndefinedValues: true },
  }),
};

function deps(): Deps {
  return {
    config: loadConfig({ TABLE_NAME: SESSIONS, BUCKET_NAME: 'bucket', MAX_OPEN_SESSIONS_PER_OWNER: '3' }),
    store: new SessionStore(clients.db, SESSIONS),
    storage: new UploadStorage(clients.s3, clients.s3, 'bucket'),
    now: () => new Date(),
    newId: () => SID,
    events: () => undefined,
  };
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function session(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    session_id: SID,
    owner: OWNER,
    filename: 'a.bin',
    content_type: 'application/octet-stream',
    object_key: `uploads/${SID}/a.bin`,
    upload_id: 'up-1',
    file_size: 6 * MiB,
    chunk_size: 5 * MiB,
    total_parts: 2,
    status: 'in_progress',
    created_at: ago(1000),
    updated_at: ago(1000),
    expires_at: new Date(Date.now() + 3600_000).toISOString(),
    ttl: 0,
    open_shard: 'open#0',
    ...over,
  };
}

const expired = () => session({ expires_at: ago(1000) });
const staleLease = () => session({ status: 'completing', completing_since: ago(3600_000), expires_at: ago(1000) });
const PARTS = [
  { PartNumber: 1, Size: 5 * MiB, ETag: '"a"' },
  { PartNumber: 2, Size: 1 * MiB, ETag: '"b"' },
];
const OBJECT = { ContentLength: 6 * MiB, ETag: '"ab-2"' };

/** A failed condition, carrying the item as it was (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
const conditionFailed = (item: Record<string, unknown> | undefined) =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, ...(item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {}) });
const notFound = () => new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 }, message: 'Not Found' });
const unreachable = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });

/** A transaction cancelled by failed conditions: `failed[i]` is the item i saw (ALL_OLD), or null if it passed. */
const cancelled = (...failed: (Record<string, unknown> | null)[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: failed.map((item) =>
      item ? { Code: 'ConditionalCheckFailed', Item: marshall(item, { removeUndefinedValues: true }) } : { Code: 'None' },
    ),
  });
const row = (s: SessionRecord) => s as unknown as Record<string, unknown>;

interface Path {
  name: string;
  /** What the path must end in: `ok`, an ApiError code, or `Error` (anything else thrown). */
  answer: string;
  run: (d: Deps) => Promise<unknown>;
}

const withGet = (r: SessionRecord | undefined) => ddb.on(GetCommand).resolves(r ? { Item: r } : {});
/** The open-sessions index holds `r` in its first shard, nothing elsewhere. */
const indexHolds = (r: SessionRecord) =>
  ddb.on(QueryCommand).callsFake((input: any) => ({ Items: input.ExpressionAttributeValues[':shard'] === 'open#0' ? [r] : [] }));
const INIT = { filename: 'a.bin', file_size: 6 * MiB };

const PATHS: Record<Exclude<FunctionId, 'router'>, Path[]> = {
  init: [
    {
      name: 'creates the upload, and the session with its count and key in one transaction',
      answer: 'ok',
      run: (d) => {
        s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
        return initUpload(d, OWNER, INIT, { idempotencyKey: 'k-1' });
      },
    },
    {
      name: 'the table write fails: the fresh upload is aborted',
      answer: 'Error',
      run: (d) => {
        s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
        ddb.on(TransactWriteCommand).rejects(unreachable());
        return initUpload(d, OWNER, INIT);
      },
    },
    {
      name: 'the owner is at the cap: the fresh upload is aborted',
      answer: 'too_many_open_sessions',
      run: (d) => {
        s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
        ddb.on(TransactWriteCommand).rejects(cancelled({ open_count: 3 }, null));
        return initUpload(d, OWNER, INIT);
      },
    },
    {
      name: 'a replayed Idempotency-Key answers its session',
      answer: 'ok',
      run: async (d) => {
        s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
        await initUpload(d, OWNER, INIT, { idempotencyKey: 'k-1' });
        const claim = (ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![2]!.Put!.Item ?? {}) as Record<string, unknown>;
        ddb.on(TransactWriteCommand).rejects(cancelled(null, null, claim));
        withGet(session());
        return initUpload(d, OWNER, INIT, { idempotencyKey: 'k-1' });
      },
    },
  ],
  parts: [
    {
      name: 'signs URLs',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        return presignParts(d, OWNER, SID, { parts: [{ part_number: 1 }] });
      },
    },
  ],
  status: [
    {
      name: 'lists the stored parts',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).resolves({ Parts: PARTS });
        return getStatus(d, OWNER, SID);
      },
    },
    {
      name: 'the upload is gone and the object is there: recorded completed with the count',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));
        s3.on(HeadObjectCommand).resolves(OBJECT);
        return getStatus(d, OWNER, SID).then((r) => expect(r).toMatchObject({ status: 'completed' }));
      },
    },
    {
      name: 'the upload is gone and no object is there',
      answer: 'session_aborted',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));
        s3.on(HeadObjectCommand).rejects(notFound());
        return getStatus(d, OWNER, SID);
      },
    },
  ],
  complete: [
    {
      name: 'assembles under the lease, records it with the count',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).resolves({ Parts: PARTS });
        s3.on(CompleteMultipartUploadCommand).resolves({ ETag: '"ab-2"' });
        return completeUpload(d, OWNER, SID, {});
      },
    },
    {
      name: 'no answer from Complete: HeadObject finds the object',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).resolves({ Parts: PARTS });
        s3.on(CompleteMultipartUploadCommand).rejects(unreachable());
        s3.on(HeadObjectCommand).resolves(OBJECT);
        return completeUpload(d, OWNER, SID, {});
      },
    },
    {
      name: 'the upload is gone and the object is there: recorded',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));
        s3.on(HeadObjectCommand).resolves(OBJECT);
        return completeUpload(d, OWNER, SID, {});
      },
    },
    {
      name: 'the upload is gone and no object is there: the row is read again',
      answer: 'session_aborted',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));
        s3.on(HeadObjectCommand).rejects(notFound());
        return completeUpload(d, OWNER, SID, {});
      },
    },
    {
      name: 'the lease is lost to another caller',
      answer: 'session_busy',
      run: (d) => {
        withGet(session());
        s3.on(ListPartsCommand).resolves({ Parts: PARTS });
        ddb.on(UpdateCommand).rejects(conditionFailed(row(session({ status: 'completing', completing_since: new Date().toISOString() }))));
        return completeUpload(d, OWNER, SID, {});
      },
    },
  ],
  abort: [
    {
      name: 'aborts an open session',
      answer: 'ok',
      run: (d) => {
        withGet(session());
        s3.on(HeadObjectCommand).rejects(notFound());
        return abortUpload(d, OWNER, SID);
      },
    },
    {
      name: 'storage holds the object: recorded completed, not aborted',
      answer: 'session_completed',
      run: (d) => {
        withGet(session());
        s3.on(HeadObjectCommand).resolves(OBJECT);
        return abortUpload(d, OWNER, SID);
      },
    },
    {
      name: 'the session changed meanwhile',
      answer: 'session_busy',
      run: (d) => {
        withGet(session());
        s3.on(HeadObjectCommand).rejects(notFound());
        ddb.on(TransactWriteCommand).rejects(cancelled(row(session({ status: 'completing', completing_since: new Date().toISOString() })), null));
        return abortUpload(d, OWNER, SID);
      },
    },
    {
      name: 'a repeated abort cleans storage again',
      answer: 'session_aborted',
      run: (d) => {
        withGet(session({ status: 'aborted' }));
        return abortUpload(d, OWNER, SID);
      },
    },
  ],
  sweep: [
    {
      name: 'expires a session past its expiry and aborts its upload',
      answer: 'ok',
      run: (d) => {
        indexHolds(expired());
        s3.on(HeadObjectCommand).rejects(notFound());
        return sweepExpired(d).then((r) => expect(r).toMatchObject({ expired: 1 }));
      },
    },
    {
      name: 'a row that changed since the index read it (another sweeper, a completer)',
      answer: 'ok',
      run: (d) => {
        indexHolds(expired());
        s3.on(HeadObjectCommand).rejects(notFound());
        ddb.on(TransactWriteCommand).rejects(cancelled(row(session({ status: 'expired' })), null));
        return sweepExpired(d).then((r) => expect(r).toMatchObject({ skipped: 1 }));
      },
    },
    {
      name: 'a stale lease past expiry whose object storage holds',
      answer: 'ok',
      run: (d) => {
        indexHolds(staleLease());
        s3.on(HeadObjectCommand).resolves(OBJECT);
        return sweepExpired(d).then((r) => expect(r).toMatchObject({ completed: 1 }));
      },
    },
  ],
  authorizer: [
    {
      name: 'reads the token row',
      answer: 'ok',
      run: () => {
        const made = newToken();
        ddb.on(GetCommand).resolves({ Item: tokenRecord(made, OWNER, new Date()) });
        return authorizeBearer(`Bearer ${made.token}`, { tokens: new TokenStore(clients.db, TOKENS), now: () => new Date() });
      },
    },
  ],
};

/** Runs every path of `fn` from a clean slate and returns the union of what they called. */
async function observe(fn: Exclude<FunctionId, 'router'>): Promise<{ granted: Granted; answers: Record<string, string> }> {
  const granted = empty();
  const answers: Record<string, string> = {};
  for (const path of PATHS[fn]) {
    s3.reset();
    ddb.reset();
    presigned.mockClear();
    // Defaults for whatever a path does not set: writes succeed, nothing else answers.
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
    answers[path.name] = await path.run(deps()).then(
      () => 'ok',
      (e: unknown) => (isApiError(e) ? e.code : 'Error'),
    );
    recordCalls(granted);
    if (presigned.mock.calls.length > 0) granted.objects.add('s3:PutObject');
  }
  return { granted, answers };
}

const sorted = (g: Granted | Access) => Object.fromEntries(Object.entries(g).map(([k, v]) => [k, [...v].sort()]));

describe('each function calls exactly what lib/access.ts grants it', () => {
  test.each(Object.keys(PATHS) as Exclude<FunctionId, 'router'>[])('%s', async (fn) => {
    const { granted } = await observe(fn);
    expect(sorted(granted)).toEqual(sorted(ACCESS[fn]));
  });

  test('router (Function URL variant): every route plus the authorizer', async () => {
    const all = empty();
    for (const fn of [...ROUTES.map((r) => r.id), 'authorizer'] as const) {
      const { granted } = await observe(fn);
      for (const k of Object.keys(all) as Resource[]) for (const a of granted[k]) all[k].add(a);
    }
    expect(sorted(all)).toEqual(sorted(ACCESS.router));
  });
});

/** A path that ends early (a fake left unset) would hide the calls after that point. */
test('every path ends in the answer it is meant to reach', async () => {
  for (const fn of Object.keys(PATHS) as Exclude<FunctionId, 'router'>[]) {
    const { answers } = await observe(fn);
    expect(answers).toEqual(Object.fromEntries(PATHS[fn].map((p) => [p.name, p.answer])));
  }
});
