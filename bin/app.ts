/**
 * CDK app: `npx cdk synth|deploy [-c key=value ...]`. Context keys are listed in lib/settings.ts;
 * `-c localstack=true` gives the LocalStack free-plan variant of the same stack.
 * Synthesizes offline: no AWS credentials (environment-agnostic stack) and no Docker (local esbuild).
 */
import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MpuStack } from '../lib/mpu-stack.js';
import { settingsFromContext } from '../lib/settings.js';

const app = new App();
const settings = settingsFromContext((key) => app.node.tryGetContext(key));
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? (settings.localstack ? 'MpuLocal' : 'Mpu');

const stack = new MpuStack(app, stackName, { settings });
Tags.of(stack).add('project', 'mpu');

// Every synth is checked: an unacknowledged AwsSolutions finding fails `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
