/**
 * `-c transferAcceleration=true`: the upload bucket's AccelerateConfiguration, the handlers' flag to
 * presign for the accelerate endpoint, and nothing else: every role is the same as without it
 * (CloudFormation enables acceleration with the deploying identity; no function calls
 * s3:PutAccelerateConfiguration). Synthesized without bundling: the template is what is checked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../../lambdas/env.js';
import { MpuStack } from '../../lib/mpu-stack.js';
import { resolveSettings, settingsFromContext, type MpuSettings } from '../../lib/settings.js';
import { cdkJsonContext } from './synth.js';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
const dirs: string[] = [];

/** The template of the stack with `settings`; no asset is bundled (bundling-stacks: none). */
function template(settings: Partial<MpuSettings>, stackName: string): { resources: Resources; stack: MpuStack } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mpu-accel-'));
  dirs.push(outdir);
  const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new MpuStack(app, stackName, { settings });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const t = app.synth().getStackArtifact(stack.artifactId).template as { Resources: Resources };
  return { resources: t.Resources, stack };
}

let off: { resources: Resources; stack: MpuStack };
let on: { resources: Resources; stack: MpuStack };

beforeAll(() => {
  off = template({}, 'MpuAccelOff');
  on = template({ transferAcceleration: true }, 'MpuAccelOn');
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const logicalId = (x: typeof on, construct: { node: { defaultChild?: unknown } }) => x.stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
const uploadBucket = (x: typeof on) => x.resources[logicalId(x, x.stack.uploads.bucket)]!;
const environments = (x: typeof on) =>
  Object.fromEntries(
    Object.entries(x.stack.functions).map(([id, f]) => [id, (x.resources[logicalId(x, f.fn)]!.Properties.Environment?.Variables ?? {}) as Record<string, unknown>]),
  );
/** Every role's inline policies, by function id: the grants. */
const grants = (x: typeof on) =>
  Object.fromEntries(Object.entries(x.stack.functions).map(([id, f]) => [id, x.resources[logicalId(x, f.role)]!.Properties.Policies]));

test('off (the default): no AccelerateConfiguration, no flag in any function environment', () => {
  expect(resolveSettings().transferAcceleration).toBe(false);
  expect(uploadBucket(off).Properties.AccelerateConfiguration).toBeUndefined();
  for (const env of Object.values(environments(off))) expect(env[ENV.s3UseAccelerateEndpoint]).toBeUndefined();
});

test('on: the upload bucket is accelerated, the log bucket is not', () => {
  expect(uploadBucket(on).Properties.AccelerateConfiguration).toEqual({ AccelerationStatus: 'Enabled' });
  expect(on.resources[logicalId(on, on.stack.uploads.logBucket)]!.Properties.AccelerateConfiguration).toBeUndefined();
});

test('on: every function built with the S3 clients carries S3_USE_ACCELERATE_ENDPOINT=true; the authorizer knows nothing of S3', () => {
  const envs = environments(on);
  for (const id of ['init', 'parts', 'status', 'complete', 'abort', 'sweep']) {
    expect({ id, flag: envs[id]?.[ENV.s3UseAccelerateEndpoint] }).toEqual({ id, flag: 'true' });
    // Virtual-hosted: neither path-style nor another public origin.
    expect(envs[id]?.[ENV.s3ForcePathStyle]).toBeUndefined();
    expect(envs[id]?.[ENV.s3PublicEndpoint]).toBeUndefined();
  }
  expect(envs.authorizer?.[ENV.s3UseAccelerateEndpoint]).toBeUndefined();
});

test('on: every role is exactly the role without acceleration (no s3:*Accelerate* grant anywhere)', () => {
  expect(grants(on)).toEqual(grants(off));
  expect(JSON.stringify(on.resources)).not.toMatch(/s3:[A-Za-z]*Accelerate/);
});

describe('settings', () => {
  const fromContext = (c: Record<string, unknown>) => settingsFromContext((k) => c[k]);

  test('-c transferAcceleration=true|false', () => {
    expect(fromContext({ transferAcceleration: 'true' }).transferAcceleration).toBe(true);
    expect(fromContext({ transferAcceleration: 'false' }).transferAcceleration).toBe(false);
    expect(fromContext({}).transferAcceleration).toBe(false);
    expect(() => fromContext({ transferAcceleration: 'yes' })).toThrow(/-c transferAcceleration/);
  });

  test('refused at synth with what cannot be accelerated: LocalStack, another public origin, a bucket name with periods', () => {
    expect(() => fromContext({ transferAcceleration: 'true', localstack: 'true' })).toThrow(/LocalStack has no accelerate endpoint/);
    expect(() => resolveSettings({ transferAcceleration: true, s3PublicEndpoint: 'https://cdn.example.com' })).toThrow(/exclude each other/);
    expect(() => resolveSettings({ transferAcceleration: true, bucketName: 'uploads.example.com' })).toThrow(/must not contain periods/);
    expect(resolveSettings({ transferAcceleration: true, bucketName: 'acme-uploads' }).transferAcceleration).toBe(true);
    // Without acceleration a dotted name is S3's business, not ours.
    expect(resolveSettings({ bucketName: 'uploads.example.com' }).bucketName).toBe('uploads.example.com');
  });

  test('generated bucket names can be accelerated: CloudFormation derives them from the stack name, which has no periods', () => {
    expect(on.stack.stackName).toMatch(/^[A-Za-z][A-Za-z0-9-]*$/);
    expect(uploadBucket(on).Properties.BucketName).toBeUndefined();
  });
});
