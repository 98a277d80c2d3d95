/**
 * Synthesizes the stack the way `cdk synth` does (same feature flags from cdk.json, real esbuild
 * bundling, cdk-nag registered), into a temporary directory. Each test file synthesizes each
 * variant once, in beforeAll: bundling is the slow part.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { MpuStack } from '../../lib/mpu-stack.js';
import type { MpuSettings } from '../../lib/settings.js';

export interface Synthesized {
  app: App;
  stack: MpuStack;
  template: Template;
  assembly: CloudAssembly;
  /** Resolved logical id of a construct's CloudFormation resource. */
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
  /** Directory of a staged asset (e.g. a Lambda bundle), by its S3 object key. */
  assetDir(s3Key: string): string;
  cleanup(): void;
}

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export function synthesize(settings: Partial<MpuSettings> = {}, stackName = 'MpuTest'): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'mpu-infra-'));
  const app = new App({ outdir, context: cdkJsonContext() });
  const stack = new MpuStack(app, stackName, { settings });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>);
  return {
    app,
    stack,
    template,
    assembly,
    logicalId: (construct) => stack.getLogicalId(construct.node.defaultChild as never),
    // The key may carry a prefix (LocalStack synthesizer: `<stack>/<hash>.zip`).
    assetDir: (s3Key) => path.join(outdir, `asset.${path.basename(s3Key, '.zip')}`),
    cleanup: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The inline policy statements of a role resource. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const role = template.toJSON().Resources[roleLogicalId] as {
    Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] };
  };
  return (role.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
}

export function asArray<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}
