/**
 * Finds or starts the system the e2e suite runs against, and tells the tests through
 * MPU_ENDPOINTS_FILE (a JSON file in the .local/endpoints.json format).
 *
 * Targets (MPU_E2E_TARGET):
 * - `local` (default): reuse a running local cloud (`npm run local`) if .local/endpoints.json
 *   exists and its API, S3 and DynamoDB all answer; otherwise start a private one
 *   (`local/main.ts --lifeline`) that global-teardown stops. If it cannot start, setup FAILS with
 *   the reason: e2e tests are never skipped.
 * - `outputs`: a deployed stack. MPU_CDK_OUTPUTS names the `cdk deploy --outputs-file` JSON;
 *   nothing is started. Its ApiUrl/BucketName/TableName/TokensTableName/Region outputs
 *   (contract/outputs.ts OUTPUT_KEYS) are written to an endpoints file; AWS credentials come from the
 *   usual chain. MPU_CDK_STACK picks the stack if the file holds several; MPU_E2E_TOKEN is the API
 *   token (`mpu-admin token create --outputs cdk-outputs.json --owner e2e`, docs/deploy.md);
 *   AWS_ENDPOINT_URL(_S3/_DYNAMODB) (LocalStack) become s3_endpoint/dynamodb_endpoint.
 *
 * Jest loads this file outside its module system (as CommonJS, without the `.js` -> `.ts`
 * mapping), so it imports Node built-ins only and talks to the local cloud as a process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProjectConfigLike {
  rootDir?: string;
}

/** Shared with global-teardown.ts (same process). */
export interface StartedCloud {
  child: ChildProcess;
  exited: Promise<void>;
  endpointsFile: string;
  logFile: string;
}
export const STATE_KEY = '__MPU_E2E_LOCAL_CLOUD__';

const START_TIMEOUT_MS = Number(process.env.MPU_E2E_START_TIMEOUT_MS ?? 180_000);
/**
 * Keys of the deployed stack's outputs: a copy of contract/outputs.ts OUTPUT_KEYS, because this file
 * may import Node built-ins only (see above). test/unit/outputs-keys.test.ts keeps the two equal.
 */
export const OUTPUT_KEYS = {
  apiUrl: 'ApiUrl',
  bucketName: 'BucketName',
  tableName: 'TableName',
  tokensTableName: 'TokensTableName',
  alarmTopicArn: 'AlarmTopicArn',
  region: 'Region',
} as const;
const ENDPOINT_KEYS = ['api_url', 's3_endpoint', 'dynamodb_endpoint'] as const;

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** A running cloud described by `file`, if every endpoint in it answers. */
async function liveEndpoints(file: string): Promise<boolean> {
  if (!existsSync(file)) return false;
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return false;
  }
  const urls = ENDPOINT_KEYS.map((k) => e[k]);
  if (!urls.every((u): u is string => typeof u === 'string' && u !== '')) return false;
  return (await Promise.all(urls.map(answers))).every(Boolean);
}

function fromCdkOutputs(root: string): void {
  const outputsFile = process.env.MPU_CDK_OUTPUTS;
  if (!outputsFile) throw new Error('MPU_E2E_TARGET=outputs needs MPU_CDK_OUTPUTS=<file written by `cdk deploy --outputs-file`>');
  let all: Record<string, Record<string, string>>;
  try {
    all = JSON.parse(readFileSync(resolve(root, outputsFile), 'utf8')) as typeof all;
  } catch (e) {
    throw new Error(`cannot read CDK outputs ${outputsFile}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const wanted = process.env.MPU_CDK_STACK;
  const stacks = Object.entries(all).filter(([name, o]) => (wanted ? name === wanted : OUTPUT_KEYS.apiUrl in (o ?? {})));
  if (stacks.length !== 1) {
    throw new Error(
      `CDK outputs ${outputsFile}: expected exactly one stack with ${OUTPUT_KEYS.apiUrl}${wanted ? ` named ${wanted}` : ''}, found ${stacks.map(([n]) => n).join(', ') || 'none'} (set MPU_CDK_STACK)`,
    );
  }
  const [stackName, o] = stacks[0]!;
  const region = o[OUTPUT_KEYS.region] ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const apiUrl = o[OUTPUT_KEYS.apiUrl];
  const bucket = o[OUTPUT_KEYS.bucketName];
  if (!apiUrl || !bucket || !region) {
    throw new Error(`stack ${stackName} outputs lack ${[!apiUrl && OUTPUT_KEYS.apiUrl, !bucket && OUTPUT_KEYS.bucketName, !region && 'Region (or AWS_REGION)'].filter(Boolean).join(', ')}`);
  }
  const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL;
  const dynamodbEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL;
  const endpoints = {
    // Tests append paths that start with '/'; API Gateway and Function URLs print a trailing '/'.
    api_url: apiUrl.replace(/\/+$/, ''),
    region,
    bucket,
    ...(o[OUTPUT_KEYS.tableName] ? { table: o[OUTPUT_KEYS.tableName] } : {}),
    ...(o[OUTPUT_KEYS.tokensTableName] ? { tokens_table: o[OUTPUT_KEYS.tokensTableName] } : {}),
    // An emulator (LocalStack) is reached through the SDK's endpoint variables; naming them here
    // makes the tests' S3 clients use them with path-style addressing.
    ...(s3Endpoint ? { s3_endpoint: s3Endpoint } : {}),
    ...(dynamodbEndpoint ? { dynamodb_endpoint: dynamodbEndpoint } : {}),
    ...(process.env.MPU_E2E_TOKEN ? { token: process.env.MPU_E2E_TOKEN } : {}),
  };
  const file = join(root, '.local', `endpoints.outputs.json`);
  mkdirSync(join(root, '.local'), { recursive: true });
  writeJson(file, endpoints);
  process.env.MPU_ENDPOINTS_FILE = file;
  console.log(`\n[e2e] target: deployed stack ${stackName} (${endpoints.api_url}, ${region})`);
}

async function startPrivateCloud(root: string): Promise<void> {
  mkdirSync(join(root, '.local'), { recursive: true });
  const endpointsFile = join(root, '.local', `e2e-${process.pid}.endpoints.json`);
  const logFile = join(root, '.local', `e2e-${process.pid}.log`);
  const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
  const extra = (process.env.MPU_E2E_CLOUD_ARGS ?? '').split(/\s+/).filter(Boolean);
  const fd = openSync(logFile, 'w');
  const t0 = Date.now();
  // The pipe on stdin is the lifeline: if Jest dies, the cloud sees EOF and stops itself.
  const child = spawn(process.execPath, ['--import', tsx, join(root, 'local', 'main.ts'), '--lifeline', '--endpoints-file', endpointsFile, ...extra], {
    cwd: root,
    stdio: ['pipe', fd, fd],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  closeSync(fd);
  let exitInfo: string | undefined;
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      res();
    });
    child.once('error', (e) => {
      exitInfo = `spawn error: ${e.message}`;
      res();
    });
  });
  const state: StartedCloud = { child, exited, endpointsFile, logFile };
  (globalThis as Record<string, unknown>)[STATE_KEY] = state;

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!existsSync(endpointsFile)) {
    if (exitInfo !== undefined || Date.now() > deadline) {
      const why = exitInfo !== undefined ? `local cloud exited (${exitInfo})` : `local cloud not ready after ${START_TIMEOUT_MS} ms`;
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
        if (exitInfo === undefined) child.kill('SIGKILL');
      }
      delete (globalThis as Record<string, unknown>)[STATE_KEY];
      throw new Error(`e2e setup: ${why}. Nothing was skipped; fix the cause and rerun.\n--- ${logFile} ---\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.MPU_ENDPOINTS_FILE = endpointsFile;
  console.log(`\n[e2e] started a local cloud in ${((Date.now() - t0) / 1000).toFixed(1)} s (log ${logFile})`);
}

/**
 * The CLI tests run the built package (client/bin/mpu.mjs imports client/dist/cli.js): built
 * again at the start of a run when a client or contract source is newer than the build (about
 * 2 s with the declarations). The whole package, declarations included, is built here and only
 * here: the package-install test packs this build (`npm pack --ignore-scripts`), because a
 * rebuild during the run would swap client/dist under the CLIs other test files are running.
 */
function buildClient(root: string): void {
  const t0 = Date.now();
  try {
    execFileSync(process.execPath, [join(root, 'client', 'build.mjs'), '--if-stale', '--quiet'], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`e2e setup: building the client package failed (node client/build.mjs):\n${stderr}`);
  }
  console.log(`\n[e2e] client/dist up to date (${Date.now() - t0} ms)`);
}

export default async function globalSetup(_globalConfig: unknown, projectConfig?: ProjectConfigLike): Promise<void> {
  const root = projectConfig?.rootDir ?? process.cwd();
  buildClient(root);
  const target = process.env.MPU_E2E_TARGET ?? 'local';
  if (target === 'outputs') return fromCdkOutputs(root);
  if (target !== 'local') throw new Error(`MPU_E2E_TARGET must be 'local' or 'outputs', got '${target}'`);
  process.env.MPU_E2E_TARGET = 'local';

  const explicit = process.env.MPU_ENDPOINTS_FILE;
  if (explicit) {
    if (await liveEndpoints(explicit)) {
      console.log(`\n[e2e] using the running local cloud of ${explicit}`);
      return;
    }
    throw new Error(`e2e setup: MPU_ENDPOINTS_FILE=${explicit} does not describe a running local cloud (missing file, or an endpoint does not answer)`);
  }
  const shared = join(root, '.local', 'endpoints.json');
  if (await liveEndpoints(shared)) {
    process.env.MPU_ENDPOINTS_FILE = shared;
    console.log(`\n[e2e] using the running local cloud of ${shared}`);
    return;
  }
  await startPrivateCloud(root);
}
