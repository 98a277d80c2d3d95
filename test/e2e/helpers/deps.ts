/**
 * The use cases' dependencies (lambdas/service/deps.ts Deps) built for a local cloud from the
 * outside, so a test can run the sweeper in-process against exactly the table, bucket and
 * configuration a (private) gateway uses, with the test's own clock when it needs one.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../../lambdas/config.js';
import { SessionStore } from '../../../lambdas/aws/session-store.js';
import { UploadStorage } from '../../../lambdas/aws/storage.js';
import { newSessionId } from '../../../lambdas/core/ids.js';
import type { Deps } from '../../../lambdas/service/deps.js';
import type { UploadEvent } from '../../../lambdas/service/events.js';
import type { E2ETarget } from './cloud.js';

export interface TestDeps {
  deps: Deps;
  /** What the use cases reported (e.g. `expired` counts). */
  events: UploadEvent[];
  destroy(): void;
}

/** Deps over `t`'s S3, table and bucket, configured by `handlerEnv` (the gateway's environment). */
export function depsFor(t: E2ETarget, handlerEnv: Readonly<Record<string, string>>, now: () => Date = () => new Date()): TestDeps {
  if (!t.s3Endpoint || !t.dynamodbEndpoint || !t.credentials || !t.table) throw new Error('depsFor needs a local target (endpoints, credentials, table)');
  const s3 = new S3Client({
    endpoint: t.s3Endpoint,
    region: t.region,
    credentials: t.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const db = new DynamoDBClient({ endpoint: t.dynamodbEndpoint, region: t.region, credentials: t.credentials });
  const doc = DynamoDBDocumentClient.from(db, { marshallOptions: { removeUndefinedValues: true } });
  const events: UploadEvent[] = [];
  const deps: Deps = {
    config: loadConfig({ ...handlerEnv }),
    store: new SessionStore(doc, t.table),
    storage: new UploadStorage(s3, s3, t.bucket),
    now,
    newId: newSessionId,
    events: (e) => events.push(e),
  };
  return {
    deps,
    events,
    destroy() {
      s3.destroy();
      db.destroy();
    },
  };
}
