/**
 * Grants the e2e suite does not exercise, each acknowledged with the reason it stays: the one
 * reviewed list the least-privilege report (report.ts) accepts. An entry for a grant that the
 * suite does exercise, or that the template no longer has, fails the report as stale, so this
 * file cannot drift into a blanket waiver.
 */
import type { Acknowledgement } from './report.js';

/**
 * Lambda's runtime, not the function's code, writes to CloudWatch Logs with the role's
 * credentials; the local runtime prints the logs instead, so no call can exercise these here.
 */
const LOGS = 'Lambda writes the function log with the role (CloudWatch Logs); the local runtime has no CloudWatch and prints logs instead';

const FUNCTIONS = ['init', 'parts', 'status', 'complete', 'abort', 'sweep', 'authorizer'] as const;

/**
 * The suite sweeps on private clouds (races: sessions that live 4 s), whose calls are not in the
 * shared cloud's call log; the shared cloud's sessions never expire during a run. The sweep
 * function's own keys run its expiry and found-object paths in test/e2e/iam-mutations.test.ts,
 * which also shows each of these grants necessary (removing one fails a sweep scenario).
 */
const SWEEP = 'exercised with the sweep function’s own keys by test/e2e/iam-mutations.test.ts (expiry and found-object paths), not on the shared cloud: the suite sweeps on private clouds';

export const ACKNOWLEDGED_GRANTS: readonly Acknowledgement[] = [
  ...FUNCTIONS.flatMap((functionId) => [
    { functionId, action: 'logs:CreateLogStream', reason: LOGS },
    { functionId, action: 'logs:PutLogEvents', reason: LOGS },
  ]),
  ...['dynamodb:Query', 'dynamodb:UpdateItem', 's3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket'].map((action) => ({ functionId: 'sweep', action, reason: SWEEP })),
];
