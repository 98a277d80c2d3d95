/**
 * The local Lambda service (local/runtime.ts) with a real worker per function over small bundles
 * written to a temporary directory: warm reuse, environment isolation, the context's deadline,
 * timeouts that destroy the environment, function errors and init errors.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FunctionError, FunctionTimeout, startRuntime, type LambdaRuntime } from '../../local/runtime.js';
import type { DeployedFunction } from '../../local/template.js';

const BUNDLE = `
let count = 0;
export const handler = async (event, context) => {
  count++;
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.fail) throw new TypeError('boom ' + count);
  return {
    count,
    env: {
      TABLE_NAME: process.env.TABLE_NAME ?? null,
      PARENT_ONLY: process.env.PARENT_ONLY ?? null,
      AWS_REGION: process.env.AWS_REGION ?? null,
      CREDS: process.env.AWS_ACCESS_KEY_ID ?? null,
    },
    remaining: context.getRemainingTimeInMillis(),
    functionName: context.functionName,
    requestId: context.awsRequestId,
  };
};
`;

let dir: string;
let runtime: LambdaRuntime | undefined;

function fn(id: DeployedFunction['id'], assetDir: string, over: Partial<DeployedFunction> = {}): DeployedFunction {
  return {
    logicalId: `${id}Fn`,
    id,
    handler: 'index.handler',
    assetDir,
    // The template tries to set a reserved variable: Lambda refuses that; locally the service's value wins.
    environment: { TABLE_NAME: 'sessions', AWS_REGION: 'template-region' },
    timeoutSeconds: 2,
    memoryMb: 128,
    policy: [],
    ...over,
  };
}

function bundle(name: string, code: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'index.mjs'), code);
  return d;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-runtime-'));
  process.env.PARENT_ONLY = 'leaked';
});
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});
afterAll(() => {
  delete process.env.PARENT_ONLY;
  rmSync(dir, { recursive: true, force: true });
});

type Answer = { count: number; env: Record<string, string | null>; remaining: number; functionName: string; requestId: string };

test('one module instance per function, reused while warm; its own environment only', async () => {
  const lines: string[] = [];
  runtime = startRuntime(
    { region: 'eu-west-1', functions: [{ fn: fn('init', bundle('warm', BUNDLE)), serviceEnv: { AWS_ACCESS_KEY_ID: 'INITKEY' } }], log: (l) => lines.push(l) },
    (id) => `Stack-${id}`,
  );
  const a = (await runtime.invoke('init', {}, { requestId: 'r-1' })) as Answer;
  const b = (await runtime.invoke('init', {})) as Answer;
  expect([a.count, b.count]).toEqual([1, 2]);
  expect(a.env).toEqual({ TABLE_NAME: 'sessions', PARENT_ONLY: null, AWS_REGION: 'eu-west-1', CREDS: 'INITKEY' });
  expect(a.functionName).toBe('Stack-init');
  expect(a.requestId).toBe('r-1');
  expect(a.remaining).toBeGreaterThan(0);
  expect(a.remaining).toBeLessThanOrEqual(2000);
  expect(runtime.stats.coldStarts.init).toHaveLength(1);
  expect(lines.filter((l) => /lambda init: cold start \d+ ms/.test(l))).toHaveLength(1);
});

test('a timeout fails the invocation like Lambda and destroys the environment: the next one starts cold', async () => {
  runtime = startRuntime({ region: 'us-east-1', functions: [{ fn: fn('status', bundle('slow', BUNDLE), { timeoutSeconds: 1 }), serviceEnv: {} }] }, (id) => id);
  expect(((await runtime.invoke('status', {})) as Answer).count).toBe(1);
  await expect(runtime.invoke('status', { sleepMs: 5000 })).rejects.toThrow(FunctionTimeout);
  await expect(runtime.invoke('status', { sleepMs: 5000 })).rejects.toThrow(/Task timed out after 1\.00 seconds/);
  expect(((await runtime.invoke('status', {})) as Answer).count).toBe(1);
  expect(runtime.stats.timeouts.status).toBe(2);
  expect(runtime.stats.coldStarts.status).toHaveLength(3);
});

test('a function error reaches the caller with its type and message; the environment stays warm', async () => {
  runtime = startRuntime({ region: 'us-east-1', functions: [{ fn: fn('abort', bundle('fails', BUNDLE)), serviceEnv: {} }] }, (id) => id);
  const err = await runtime.invoke('abort', { fail: true }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FunctionError);
  expect((err as FunctionError).errorType).toBe('TypeError');
  expect((err as FunctionError).message).toMatch(/boom 1/);
  expect(((await runtime.invoke('abort', {})) as Answer).count).toBe(2);
});

test('a bundle without the handler export fails every invocation with an init error', async () => {
  runtime = startRuntime(
    { region: 'us-east-1', functions: [{ fn: fn('parts', bundle('noexport', 'export const other = 1;')), serviceEnv: {} }] },
    (id) => id,
  );
  await expect(runtime.invoke('parts', {})).rejects.toThrow(/Runtime.InitError.*HandlerNotFound/);
  await expect(runtime.invoke('parts', {})).rejects.toThrow(/HandlerNotFound/);
});

test('an unknown function is ResourceNotFound', async () => {
  runtime = startRuntime({ region: 'us-east-1', functions: [] }, (id) => id);
  await expect(runtime.invoke('sweep', {})).rejects.toThrow(/Function not found/);
});
