/**
 * Grant mutations: the synthesized template's policy, with one S3 or DynamoDB grant of one
 * function removed, applied to fresh RGW users, a fresh bucket policy and a fresh DynamoDB front
 * (test/e2e/iam/world.ts). Every grant a function has must be needed: without it some scenario of
 * that function fails, and it fails by an authorization refusal (AccessDenied from RGW or the
 * DynamoDB front), not by accident. The unmutated template passes every scenario unrefused.
 */
import { jest } from '@jest/globals';
import { ACCESS, type FunctionId } from '../../lib/access.js';
import { runScenarios, SCENARIOS } from './iam/scenarios.js';
import { createWorld, enforce, grantedDataActions, withoutGrant, type IamWorld } from './iam/world.js';

jest.setTimeout(120_000);

/** The functions of the HTTP API variant the local cloud deploys (the router is the Function URL variant's). */
const FUNCTIONS: FunctionId[] = ['init', 'parts', 'status', 'complete', 'abort', 'sweep', 'authorizer'];

/** Every data grant lib/access.ts declares, as (function, action); the template is checked to grant exactly these. */
const GRANTS: [FunctionId, string][] = FUNCTIONS.flatMap((fn) => {
  const a = ACCESS[fn];
  return [...new Set([...a.table, ...a.openSessionsIndex, ...a.tokensTable, ...a.objects, ...a.bucket])].sort().map((action): [FunctionId, string] => [fn, action]);
});

let world: IamWorld;

beforeAll(async () => {
  world = await createWorld();
}, 300_000);

afterAll(async () => {
  await world?.destroy();
});

test('the mutations cover every S3 and DynamoDB grant of the synthesized template', () => {
  const fromTemplate = world.functions.filter((f) => FUNCTIONS.includes(f.id)).flatMap((f) => grantedDataActions(f).map((a) => `${f.id} ${a}`));
  expect(fromTemplate.sort()).toEqual(GRANTS.map(([fn, a]) => `${fn} ${a}`).sort());
  expect(Object.keys(SCENARIOS).sort()).toEqual([...FUNCTIONS].sort());
});

test('the template as synthesized: every scenario passes and nothing is refused', async () => {
  const e = await enforce(world, world.functions);
  try {
    for (const fn of FUNCTIONS) expect({ fn, failures: await runScenarios(e, world, fn) }).toEqual({ fn, failures: [] });
    expect(e.refusals).toEqual([]);
  } finally {
    await e.stop();
  }
});

test.each(GRANTS)('%s without %s fails with AccessDenied', async (fn, action) => {
  const e = await enforce(world, withoutGrant(world.functions, fn, action));
  try {
    const failures = await runScenarios(e, world, fn);
    expect(failures.length).toBeGreaterThan(0);
    // The failure is the refusal, by RGW or the DynamoDB front, of the mutated function's call.
    expect(e.refusals.filter((r) => r.functionId === fn).length).toBeGreaterThan(0);
    expect(e.refusals.every((r) => r.functionId === fn)).toBe(true);
  } finally {
    await e.stop();
  }
});
