/**
 * The local cloud runs what `cdk synth` produced: the functions' bundles with the template's
 * environment. Proven by mutation: misspelling one environment variable in the synthesized
 * template (the key of TABLE_NAME in the init function) makes init fail with the handler's
 * configuration error (a 500, logged), while the same request to the unmutated template succeeds.
 * And the sweeper runs as EventBridge runs it: invoked directly, it expires an abandoned session.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FunctionInvokeError } from '../../local/cloud.js';
import type { CfnTemplate } from '../../local/template-reader.js';
import { GATEWAY_LOG_FILE } from '../../local/gateway-log.js';
import { call, initSession } from './helpers/api.js';
import { dynamoClient } from './helpers/cloud.js';
import { describeLocalCloud, startPrivateCloud, type PrivateCloud } from './helpers/private-cloud.js';
import { sessionRow } from './helpers/storage.js';

jest.setTimeout(120_000);

/** Both clouds synthesize with the same settings: one synth (cached), two readings of it. */
const SETTINGS = { sessionTtlSeconds: 2 };
const MISSPELLED = 'TABLE_NAEM';

/** The init function's TABLE_NAME renamed, as a typo in lib/mpu-stack.ts would synthesize it. */
function misspellInitTableName(t: CfnTemplate): CfnTemplate {
  const copy = structuredClone(t);
  const init = Object.values(copy.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:cdk:path'] === 'MpuLocal/InitHandler/Function/Resource');
  const vars = (init?.Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables;
  if (!vars || !('TABLE_NAME' in vars)) throw new Error('the synthesized init function has no TABLE_NAME to misspell');
  vars[MISSPELLED] = vars.TABLE_NAME;
  delete vars.TABLE_NAME;
  return copy;
}

let good: PrivateCloud;
let mutated: PrivateCloud;
let db: DynamoDBClient;

describeLocalCloud('the local cloud runs the synthesized stack', () => {
  beforeAll(async () => {
    [good, mutated] = await Promise.all([
      startPrivateCloud({ settings: SETTINGS }),
      startPrivateCloud({ settings: SETTINGS, cloud: { transformTemplate: misspellInitTableName } }),
    ]);
    db = dynamoClient(good.target);
  }, 180_000);

  afterAll(async () => {
    db?.destroy();
    await Promise.all([good?.stop(), mutated?.stop()]);
  });

  test('each function is its bundle in the cloud assembly with the template environment, resolved to the local resources', () => {
    const stack = good.cloud.stack!;
    expect(Object.keys(stack.functions).sort()).toEqual(['abort', 'authorizer', 'complete', 'init', 'parts', 'status', 'sweep']);
    const init = stack.functions.init!;
    expect(init.assetDir.startsWith(good.cloud.synth!.dir)).toBe(true);
    expect(existsSync(join(init.assetDir, 'index.mjs'))).toBe(true);
    expect(init.environment).toMatchObject({ TABLE_NAME: good.target.table, BUCKET_NAME: good.target.bucket, SESSION_TTL_SECONDS: '2' });
    expect(stack.functions.authorizer!.environment).toEqual({ TOKENS_TABLE_NAME: good.target.tokensTable, NODE_OPTIONS: '--enable-source-maps' });
    expect(stack.routes.map((r) => `${r.routeKey} -> ${r.functionId}`).sort()).toEqual([
      'DELETE /upload/{session_id} -> abort',
      'GET /upload/{session_id}/status -> status',
      'POST /upload/init -> init',
      'POST /upload/{session_id}/complete -> complete',
      'POST /upload/{session_id}/parts -> parts',
    ]);
  });

  test('unmutated: init succeeds', async () => {
    const r = await call(good.target, 'POST', '/upload/init', { json: { filename: 'a.bin', file_size: 1024 } });
    expect(r.status).toBe(201);
  });

  test('a misspelled environment variable in the template: init fails with its configuration error, logged', async () => {
    expect(mutated.cloud.stack!.functions.init!.environment).toHaveProperty(MISSPELLED);
    const r = await call(mutated.target, 'POST', '/upload/init', { json: { filename: 'a.bin', file_size: 1024 } });
    expect(r.status).toBe(500);
    const log = readFileSync(join(mutated.cloud.dir, GATEWAY_LOG_FILE), 'utf8');
    expect(log).toMatch(/invalid configuration: TABLE_NAME/);
    // Only the mutated function is affected: the other routes still reach their handlers.
    const other = await call(mutated.target, 'GET', '/upload/nosuchsession/status');
    expect(other.status).toBeLessThan(500);
    expect(typeof other.body?.error).toBe('string');
  });

  test('the sweeper, invoked as EventBridge invokes it, expires an abandoned session', async () => {
    const s = await initSession(good.target, 1024);
    await new Promise((r) => setTimeout(r, (SETTINGS.sessionTtlSeconds + 1) * 1000));
    const event = { version: '0', id: 'local', 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString(), detail: {} };
    const result = (await good.cloud.invoke('sweep', event)) as { expired: number };
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect((await sessionRow(db, good.target.table!, s.session_id))?.status).toBe('expired');
  });

  test('invoking a function the stack does not have fails like Lambda', async () => {
    const err = await good.cloud.invoke('router').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunctionInvokeError);
    expect((err as FunctionInvokeError).errorType).toBe('ResourceNotFoundException');
  });
});
