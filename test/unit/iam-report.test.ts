/** local/iam/report.ts: granted vs called, both ways, with acknowledgements that cannot go stale. */
import type { CallLogEntry } from '../../local/iam/provision.js';
import { buildReport, formatReport, reportProblems } from '../../local/iam/report.js';

const T = 'arn:aws:dynamodb:us-east-1:000000000000:table/t';
const O = 'arn:aws:s3:::b/uploads/*';

const fn = (functionId: string, policy: Extract<CallLogEntry, { type: 'function' }>['policy']): CallLogEntry => ({ type: 'function', functionId, logicalId: `${functionId}H`, policy });
const call = (functionId: string, action: string, resource: string, decision: 'allow' | 'implicit-deny' | 'denied' = 'allow'): CallLogEntry =>
  action.startsWith('s3:')
    ? { type: 'call', service: 's3', user: `fn-${functionId}`, functionId, operation: 'op', action, resource, status: decision === 'allow' ? 200 : 403, decision: decision === 'allow' ? 'allow' : 'denied', at: '' }
    : { type: 'call', service: 'dynamodb', functionId, operation: 'op', action, resource, decision: decision === 'denied' ? 'implicit-deny' : decision, at: '' };

const status = fn('status', [
  { effect: 'Allow', actions: ['logs:PutLogEvents'], resources: ['arn:aws:logs:*'] },
  { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [T] },
  { effect: 'Allow', actions: ['s3:GetObject'], resources: [O] },
]);
const ackLogs = { functionId: 'status', action: 'logs:PutLogEvents', reason: 'runtime writes logs' };

test('every grant exercised or acknowledged: no problems', () => {
  const r = buildReport([status, call('status', 'dynamodb:GetItem', T), call('status', 'dynamodb:UpdateItem', T), call('status', 's3:GetObject', 'arn:aws:s3:::b/uploads/x/y')], [ackLogs]);
  expect(reportProblems(r)).toEqual([]);
  expect(r.functions[0]).toMatchObject({ called: { 'dynamodb:GetItem': 1, 'dynamodb:UpdateItem': 1, 's3:GetObject': 1 }, acknowledged: { 'logs:PutLogEvents': 'runtime writes logs' }, unexercised: [] });
  expect(formatReport(r)).toMatch(/status\s+logs:PutLogEvents\s+yes\s+0\s+acknowledged: runtime writes logs/);
});

test('a grant no call exercised fails, and so does a call outside the granted resource', () => {
  const r = buildReport([status, call('status', 'dynamodb:GetItem', T), call('status', 's3:GetObject', 'arn:aws:s3:::b/elsewhere/x')], [ackLogs]);
  expect(r.functions[0]!.unexercised).toEqual(['dynamodb:UpdateItem', 's3:GetObject']);
  expect(reportProblems(r)).toEqual([
    expect.stringMatching(/^status: dynamodb:UpdateItem is granted but no test exercised it/),
    expect.stringMatching(/^status: s3:GetObject is granted but no test exercised it/),
  ]);
});

test('a refused call is a missing grant', () => {
  const r = buildReport([status, call('status', 'dynamodb:GetItem', T), call('status', 'dynamodb:UpdateItem', T), call('status', 's3:GetObject', 'arn:aws:s3:::b/uploads/k'), call('status', 's3:PutObject', 'arn:aws:s3:::b/uploads/k', 'denied')], [ackLogs]);
  expect(reportProblems(r)).toEqual(['status: s3:PutObject on arn:aws:s3:::b/uploads/k was refused 1x (a grant the code needs)']);
  expect(formatReport(r)).toMatch(/REFUSED/);
});

test('an acknowledgement that is exercised, or names no grant, is stale', () => {
  const calls = [status, call('status', 'dynamodb:GetItem', T), call('status', 'dynamodb:UpdateItem', T), call('status', 's3:GetObject', 'arn:aws:s3:::b/uploads/k')];
  const exercisedAck = { functionId: 'status', action: 'dynamodb:GetItem', reason: 'x' };
  const unknownAck = { functionId: 'parts', action: 's3:PutObject', reason: 'x' };
  expect(reportProblems(buildReport(calls, [ackLogs, exercisedAck, unknownAck]))).toEqual([
    'stale acknowledgement status dynamodb:GetItem: exercised or not granted any more',
    'stale acknowledgement parts s3:PutObject: exercised or not granted any more',
  ]);
});

test('no function identities at all is a problem, not an empty pass', () => {
  expect(reportProblems(buildReport([], []))).toEqual(['no function identities in the call log: IAM was not enforced']);
});
