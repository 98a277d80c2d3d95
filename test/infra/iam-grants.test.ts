/**
 * The acknowledged unexercised grants (local/iam/acknowledged-grants.ts) against the synthesized
 * template the local cloud runs: each names a grant the template has, with a reason; and every
 * grant the local cloud cannot exercise at all (no service behind it locally) is acknowledged,
 * so the least-privilege report after the e2e suite fails only on grants tests could reach.
 */
import { readFileSync } from 'node:fs';
import { LOCAL_STACK_NAME, localSettings } from '../../local/cloud.js';
import { ACKNOWLEDGED_GRANTS } from '../../local/iam/acknowledged-grants.js';
import { synthesize } from '../../local/synth.js';
import { LOCAL_ACCOUNT_ID, type DeployedFunction } from '../../local/template.js';
import { readDeployedStack } from '../../local/template-reader.js';
import { S3_LIMITS } from '../../contract/limits.js';

/** Services the local cloud enforces and records: every other grant can never be exercised here. */
const LOCAL_SERVICES = /^(s3|dynamodb):/i;

let functions: DeployedFunction[];

beforeAll(async () => {
  const synth = await synthesize({ stackName: LOCAL_STACK_NAME, settings: localSettings({}, S3_LIMITS.minPartSize) });
  const template = JSON.parse(readFileSync(synth.templateFile, 'utf8')) as Parameters<typeof readDeployedStack>[0];
  const stack = readDeployedStack(template, synth.dir, {
    region: 'us-east-1',
    accountId: LOCAL_ACCOUNT_ID,
    bucket: 'b',
    table: 't',
    tokensTable: 'tt',
    apiUrl: 'http://127.0.0.1:1',
    stackName: synth.stackName,
  });
  functions = Object.values(stack.functions);
}, 300_000);

const granted = (f: DeployedFunction) => new Set(f.policy.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions));

test('each acknowledgement names a grant of the template, once, with a reason', () => {
  const seen = new Set<string>();
  for (const a of ACKNOWLEDGED_GRANTS) {
    const f = functions.find((fn) => fn.id === a.functionId);
    expect({ ack: `${a.functionId} ${a.action}`, granted: f !== undefined && granted(f).has(a.action) }).toEqual({ ack: `${a.functionId} ${a.action}`, granted: true });
    expect(a.reason.trim().length).toBeGreaterThan(10);
    expect(seen.has(`${a.functionId} ${a.action}`)).toBe(false);
    seen.add(`${a.functionId} ${a.action}`);
  }
});

test('every grant on a service the local cloud does not run is acknowledged', () => {
  const unreachable = functions.flatMap((f) => [...granted(f)].filter((a) => !LOCAL_SERVICES.test(a)).map((a) => `${f.id} ${a}`));
  const acknowledged = new Set(ACKNOWLEDGED_GRANTS.map((a) => `${a.functionId} ${a.action}`));
  expect(unreachable.filter((g) => !acknowledged.has(g))).toEqual([]);
  expect(unreachable.length).toBeGreaterThan(0);
});
