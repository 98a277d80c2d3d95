/**
 * docs/deploy.md and docs/localstack.md against the stack they describe: the alarm count and
 * its price, the outputs of each variant, and a teardown that sets every variable it uses.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { settingsFromContext } from '../../lib/settings.js';
import { synthesize, type Synthesized } from './synth.js';

const doc = (name: string) => readFileSync(path.join(PROJECT_ROOT, 'docs', name), 'utf8');
const deployMd = doc('deploy.md');
const localstackMd = doc('localstack.md');

let defaults: Synthesized;
let jwt: Synthesized;
let local: Synthesized;

beforeAll(() => {
  defaults = synthesize({}, 'Mpu');
  jwt = synthesize({ jwtAuth: { issuer: 'https://issuer.example.com', audience: ['mpu'] } }, 'MpuJwt');
  local = synthesize(settingsFromContext((k) => ({ localstack: 'true' })[k]), 'MpuLocal');
});

afterAll(() => {
  for (const x of [defaults, jwt, local]) x?.cleanup();
});

const outputKeys = (t: Template) => Object.keys(t.toJSON().Outputs as object).sort();

/** CloudWatch bills an alarm per metric it reads: a math-expression alarm counts each of its metrics. */
function alarmMetrics(t: Template): { alarms: number; metrics: number } {
  const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')) as { Properties: { Metrics?: { MetricStat?: unknown }[] } }[];
  const metrics = alarms.reduce((n, a) => n + (a.Properties.Metrics ? a.Properties.Metrics.filter((m) => m.MetricStat).length : 1), 0);
  return { alarms: alarms.length, metrics };
}

/** The fenced blocks of a language, in order. */
const blocks = (md: string, lang: string) => [...md.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('docs/deploy.md', () => {
  test('the idle cost counts the alarms and alarm metrics the stack creates, at $0.10 each', () => {
    const { alarms, metrics } = alarmMetrics(defaults.template);
    const row = deployMd.split('\n').find((l) => l.startsWith('| CloudWatch alarms'));
    expect(row).toBeDefined();
    expect(row).toContain(`${alarms} alarms on ${metrics} metrics`);
    expect(row).toContain(`$${(metrics * 0.1).toFixed(2)} |`);
  });

  test('the outputs row and the example outputs files name exactly what each variant outputs', () => {
    const row = deployMd.split('\n').find((l) => l.startsWith('| Outputs'))!;
    for (const key of outputKeys(defaults.template)) expect(row).toContain(`\`${key}\``);
    // The first outputs file is the default stack's; the one after the JWT deploy has no tokens table.
    const [tokenAuth, jwtAuth] = blocks(deployMd, 'json').map((b) => Object.keys((JSON.parse(b) as { Mpu: object }).Mpu).sort());
    expect(tokenAuth).toEqual(outputKeys(defaults.template));
    expect(jwtAuth).toEqual(outputKeys(jwt.template));
    expect(jwtAuth).not.toContain('TokensTableName');
  });

  test('the teardown sets every variable it uses and deletes both tables and both buckets', () => {
    const teardown = deployMd.slice(deployMd.indexOf('## Teardown'), deployMd.indexOf('## What it costs'));
    const script = blocks(teardown, 'bash').join('\n');
    const assigned = new Set([...script.matchAll(/(?:^|\s)([A-Z_]+)=/gm), ...script.matchAll(/for (\w+) in/g)].map((m) => m[1]));
    const used = new Set([...script.matchAll(/\$\{?([A-Za-z_]+)/g)].map((m) => m[1]));
    expect([...used].filter((v) => !assigned.has(v))).toEqual([]);
    expect(script).toContain('.TableName');
    expect(script).toContain('.TokensTableName');
    expect(script).toMatch(/s3 rb "s3:\/\/\$BUCKET"/);
    expect(script).toMatch(/s3 rb "s3:\/\/\$LOG_BUCKET"/);
  });
});

describe('docs/localstack.md', () => {
  test('the outputs file it describes holds what the LocalStack template outputs', () => {
    const sentence = /`cdk-outputs\.localstack\.json` holds ([^.;]*)/.exec(localstackMd)?.[1] ?? '';
    const named = [...sentence.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
    expect(named).toEqual(outputKeys(local.template));
  });
});
