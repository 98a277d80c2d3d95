/**
 * Child process of local/synth.ts: `node --import tsx local/synth-main.ts <outdir> <request json>`.
 * Synthesizes MpuStack as bin/app.ts does (cdk.json's feature flags, the stack's own bundling),
 * with construct paths and asset paths in the template metadata, which the template reader
 * needs to tell the upload bucket from the log bucket and to find each function's bundle.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { MpuStack } from '../lib/mpu-stack.js';
import { PROJECT_ROOT, SYNTH_MANIFEST, type SynthRequest } from './synth.js';

const [outdir, raw] = process.argv.slice(2);
if (!outdir || !raw) throw new Error('usage: synth-main.ts <outdir> <request json>');
const req = JSON.parse(raw) as SynthRequest;
const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const t0 = Date.now();
const app = new App({
  outdir,
  context: { ...cdkJson.context, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true },
});
new MpuStack(app, req.stackName, { settings: req.settings });
app.synth();
writeFileSync(join(outdir, SYNTH_MANIFEST), `${JSON.stringify({ ...req, synthMs: Date.now() - t0 }, null, 2)}\n`);
