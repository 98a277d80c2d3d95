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

export const ACKNOWLEDGED_GRANTS: readonly Acknowledgement[] = [
  ...FUNCTIONS.flatMap((functionId) => [
    { functionId, action: 'logs:CreateLogStream', reason: LOGS },
    { functionId, action: 'logs:PutLogEvents', reason: LOGS },
  ]),
];
