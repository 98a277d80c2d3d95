/**
 * Writes the least-privilege report of one local cloud's run and prints it as a table:
 * `node --import tsx local/iam/report-main.ts --endpoints-file <f> [--check] [--consume] [--require]`.
 *
 * Reads the call log next to the endpoints file (provision.ts callLogFileFor) and writes
 * `.local/iam-report.json` (the latest run's); `--consume` deletes the call log after (a stopped
 * e2e cloud's, so runs do not pile up in .local). With `--check` it exits
 * 1 when least privilege does not hold both ways (report.ts reportProblems); a cloud without a
 * call log did not enforce IAM: said so, and an error only with `--require`. The e2e global
 * teardown runs it after a full e2e run, once the cloud (and so the S3 log flush) has stopped.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ACKNOWLEDGED_GRANTS } from './acknowledged-grants.js';
import { callLogFileFor, type CallLogEntry } from './provision.js';
import { buildReport, formatReport, reportProblems } from './report.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { values } = parseArgs({
  options: {
    'endpoints-file': { type: 'string' },
    check: { type: 'boolean', default: false },
    consume: { type: 'boolean', default: false },
    require: { type: 'boolean', default: false },
  },
});
const endpointsFile = values['endpoints-file'];
if (!endpointsFile) {
  process.stderr.write('usage: report-main.ts --endpoints-file <endpoints.json> [--check] [--consume] [--require]\n');
  process.exit(2);
}
const logFile = callLogFileFor(endpointsFile);
if (!existsSync(logFile)) {
  process.stderr.write(`\n[iam] no call log ${logFile}: this cloud did not enforce IAM, so there is no least-privilege report\n`);
  process.exit(values.require ? 1 : 0);
}
const entries = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as CallLogEntry);
const report = buildReport(entries, ACKNOWLEDGED_GRANTS);
const problems = reportProblems(report);
const out = join(PROJECT_ROOT, '.local', 'iam-report.json');
mkdirSync(join(PROJECT_ROOT, '.local'), { recursive: true });
writeFileSync(out, `${JSON.stringify({ callLog: logFile, ...report, problems }, null, 2)}\n`);
if (values.consume) rmSync(logFile, { force: true });
process.stdout.write(`\n[iam] least privilege, actions granted vs called (${out}):\n${formatReport(report)}\n`);
if (problems.length > 0) {
  process.stdout.write(`\n[iam] ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  if (values.check) process.exitCode = 1;
}
