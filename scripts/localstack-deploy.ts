/**
 * The stack on LocalStack (free plan), end to end:
 *   npm run localstack:deploy    deploy `-c localstack=true`, write cdk-outputs.localstack.json
 *                                (extra arguments go to cdklocal: `-- -c s3PublicEndpoint=...`)
 *   npm run localstack:e2e       run the e2e suite against that deployment (its outputs file)
 *   npm run localstack:destroy   delete the stack
 * LocalStack must be running first: `docker compose up -d --wait` (docs/localstack.md).
 *
 * The deploy uses `cdklocal` (aws-cdk-local, pinned in package.json next to the aws-cdk CLI it
 * wraps), which points the CDK CLI at LocalStack. No `cdk bootstrap`: the LocalStack variant's
 * synthesizer uploads bundles to one plain bucket, created here.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCALSTACK_ASSETS_BUCKET } from '../lib/settings.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://localhost.localstack.cloud:4566';
const s3Endpoint = process.env.AWS_ENDPOINT_URL_S3 ?? 'http://s3.localhost.localstack.cloud:4566';
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const stackName = process.env.MPU_STACK_NAME ?? 'MpuLocal';
const outputsFile = process.env.MPU_CDK_OUTPUTS ?? 'cdk-outputs.localstack.json';

/** LocalStack accepts any credentials; "test" maps to its default account 000000000000. */
const localEnv: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ENDPOINT_URL: endpoint,
  AWS_ENDPOINT_URL_S3: s3Endpoint,
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  AWS_REGION: region,
  AWS_DEFAULT_REGION: region,
  // cdklocal drops every other AWS_* variable (profiles, session tokens) so a deploy can never
  // reach a real account by accident; these are the ones it keeps.
  AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY',
};

function run(command: string, args: string[], env: NodeJS.ProcessEnv = localEnv): void {
  console.log(`$ ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

async function checkLocalStack(): Promise<void> {
  try {
    const res = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const health = (await res.json()) as { edition?: string; version?: string };
    console.log(`LocalStack ${health.version ?? '?'} (${health.edition ?? '?'}) at ${endpoint}`);
  } catch (e) {
    console.error(
      `LocalStack does not answer at ${endpoint} (${e instanceof Error ? e.message : String(e)}).\n` +
        'Start it with: docker compose up -d --wait   (needs LOCALSTACK_AUTH_TOKEN in .env, see .env.example)',
    );
    process.exit(1);
  }
}

async function createAssetsBucket(): Promise<void> {
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: localEnv.AWS_ACCESS_KEY_ID!, secretAccessKey: localEnv.AWS_SECRET_ACCESS_KEY! },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: LOCALSTACK_ASSETS_BUCKET }));
    console.log(`created asset bucket ${LOCALSTACK_ASSETS_BUCKET}`);
  } catch (e) {
    if (!(e instanceof BucketAlreadyOwnedByYou)) throw e;
  }
}

/** `mpu-admin token create` against the deployed stack's tokens table; the token is only passed on, never printed. */
function e2eToken(): string {
  const args = ['ops/admin/bin/mpu-admin.mjs', 'token', 'create', '--outputs', outputsFile, '--stack', stackName, '--owner', 'e2e', '--expires-in', '2h'];
  console.log(`$ node ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: root, env: localEnv, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout.trim();
}

const cdklocal = (args: string[]) =>
  run('npx', ['--no-install', 'cdklocal', ...args, '-c', 'localstack=true', '-c', `stackName=${stackName}`]);

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'deploy';
  switch (command) {
    case 'deploy':
      await checkLocalStack();
      await createAssetsBucket();
      cdklocal(['deploy', stackName, '--require-approval', 'never', '--outputs-file', outputsFile, ...process.argv.slice(3)]);
      console.log(`\noutputs: ${outputsFile}\nnext: npm run localstack:e2e   or   npm run mpu -- upload FILE --api <ApiUrl>`);
      break;
    case 'e2e': {
      await checkLocalStack();
      // The API wants a token: unless MPU_E2E_TOKEN names one, make a short-lived one in the
      // stack's tokens table, the way an operator would (the CLI finds LocalStack via AWS_ENDPOINT_URL).
      const token = process.env.MPU_E2E_TOKEN || e2eToken();
      // The same suite as against the local cloud or AWS; the tests' own S3/DynamoDB checks go to
      // LocalStack through AWS_ENDPOINT_URL(_S3).
      run('npx', ['--no-install', 'jest', '--selectProjects', 'e2e', ...process.argv.slice(3)], {
        ...localEnv,
        MPU_E2E_TARGET: 'outputs',
        MPU_CDK_OUTPUTS: outputsFile,
        MPU_CDK_STACK: stackName,
        MPU_E2E_TOKEN: token,
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--experimental-vm-modules'].filter(Boolean).join(' '),
      });
      break;
    }
    case 'destroy':
      await checkLocalStack();
      cdklocal(['destroy', stackName, '--force']);
      break;
    default:
      console.error(`usage: tsx scripts/localstack-deploy.ts [deploy|e2e|destroy] (got ${command})`);
      process.exit(2);
  }
}

await main();
