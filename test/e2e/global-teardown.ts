/**
 * Stops the local cloud global-setup started (never one it merely reused): SIGTERM, so it
 * stops its daemons and deletes its files, then SIGKILL if it hangs (its watchdog still cleans
 * up the daemons). Node built-ins only, for the same reason as global-setup.ts.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StartedCloud } from './global-setup.js';

interface GlobalConfigLike {
  rootDir?: string;
  testPathPatterns?: { patterns?: string[] };
  testNamePattern?: string;
  nonFlagArgs?: string[];
  onlyChanged?: boolean;
  onlyFailures?: boolean;
  findRelatedTests?: boolean;
}

/** Every e2e test ran: only then must every grant have been exercised. */
function fullRun(c: GlobalConfigLike | undefined): boolean {
  return !!c && !c.testPathPatterns?.patterns?.length && !c.testNamePattern && !c.nonFlagArgs?.length && !c.onlyChanged && !c.onlyFailures && !c.findRelatedTests;
}

/**
 * The least-privilege report of the cloud that just stopped (local/iam/report-main.ts, run as a
 * process: this file may import Node built-ins only). After a full run it fails the run when a
 * grant went unexercised without an acknowledgement, or a function's call was refused.
 */
function leastPrivilegeReport(root: string, endpointsFile: string, check: boolean): void {
  const tsx = pathToFileURL(createRequire(join(root, 'package.json')).resolve('tsx')).href;
  // The e2e cloud runs its own Ceph, so it enforces IAM unless told not to: then a missing call log is an error.
  const iamOff = (process.env.MPU_E2E_CLOUD_ARGS ?? '').split(/\s+/).includes('--no-iam');
  const args = ['--import', tsx, join(root, 'local', 'iam', 'report-main.ts'), '--endpoints-file', endpointsFile, '--consume', ...(check ? ['--check'] : []), ...(check && !iamOff ? ['--require'] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
  if (check && r.status !== 0) throw new Error(`[e2e] least privilege does not hold (report above, .local/iam-report.json)`);
}

const STATE_KEY = '__MPU_E2E_LOCAL_CLOUD__';
const STOP_TIMEOUT_MS = 30_000;

export default async function globalTeardown(globalConfig?: GlobalConfigLike): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const state = g[STATE_KEY] as StartedCloud | undefined;
  if (!state) return;
  delete g[STATE_KEY];
  const { child, exited, endpointsFile, logFile } = state;
  let clean = false;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    clean = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), STOP_TIMEOUT_MS)))]);
    // A pending timer would hold Jest open for the rest of the 30 s.
    clearTimeout(timer);
    if (!clean) {
      child.kill('SIGKILL');
      await exited;
      console.error(`[e2e] the local cloud did not stop within ${STOP_TIMEOUT_MS} ms; killed it (log ${logFile})`);
    }
  }
  child.stdin?.destroy();
  rmSync(endpointsFile, { force: true });
  // The cloud has stopped, so its call log is complete (the S3 calls are flushed at stop).
  leastPrivilegeReport(globalConfig?.rootDir ?? process.cwd(), endpointsFile, clean && fullRun(globalConfig));
  if (clean && child.exitCode === 0) rmSync(logFile, { force: true });
  // A later run in the same process (watch mode) must not mistake the deleted file for an explicit choice.
  if (process.env.MPU_ENDPOINTS_FILE === endpointsFile) delete process.env.MPU_ENDPOINTS_FILE;
}
