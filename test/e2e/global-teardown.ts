/**
 * Stops the local cloud global-setup started (never one it merely reused): SIGTERM, so it
 * stops its daemons and deletes its files, then SIGKILL if it hangs (its watchdog still cleans
 * up the daemons). Node built-ins only, for the same reason as global-setup.ts.
 */
import { rmSync } from 'node:fs';
import type { StartedCloud } from './global-setup.js';

const STATE_KEY = '__MPU_E2E_LOCAL_CLOUD__';
const STOP_TIMEOUT_MS = 30_000;

export default async function globalTeardown(): Promise<void> {
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
  if (clean && child.exitCode === 0) rmSync(logFile, { force: true });
  // A later run in the same process (watch mode) must not mistake the deleted file for an explicit choice.
  if (process.env.MPU_ENDPOINTS_FILE === endpointsFile) delete process.env.MPU_ENDPOINTS_FILE;
}
