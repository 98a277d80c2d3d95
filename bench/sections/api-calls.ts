/**
 * Section `api_calls`: API calls per upload (init + parts + complete + any other route), counted
 * in the local gateway's log around one real `mpu upload` each (no resume, no retries expected;
 * retries would show up as extra calls and count against the target, as they would on AWS).
 * Target (issue 13): <= ceil(parts / 100) + 3.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { routeKey } from '../../contract/routes.js';
import { GATEWAY_LOG_FILE, parseLog } from '../../local/gateway-log.js';
import type { Runners, Target } from '../lib/runners.js';
import { MiB } from '../lib/stats.js';

export interface ApiCallCase {
  size: number;
  /** undefined: mpu's default part size. */
  chunk?: number;
  file: string;
  target: Target;
  /** Run directory of the cloud behind target.api (its gateway.log). */
  cloudDir: string;
}

export interface ApiCallCount {
  size: number;
  chunk: number;
  parts: number;
  routes: Record<string, number>;
  total: number;
  limit: number;
  mibps: number;
}

/** Target of issue 13 for an upload of `parts` parts. */
export const apiCallLimit = (parts: number) => Math.ceil(parts / 100) + 3;

export async function countApiCalls(cases: readonly ApiCallCase[], runners: Runners, drop: (key: string) => Promise<void>, log: (s: string) => void): Promise<ApiCallCount[]> {
  const out: ApiCallCount[] = [];
  for (const c of cases) {
    const logFile = join(c.cloudDir, GATEWAY_LOG_FILE);
    const before = readFileSync(logFile, 'utf8').length;
    const { r } = await runners.runMpu(c.file, c.target, c.chunk ? { chunk: c.chunk } : {});
    await drop(r.file_path.replace(/^s3:\/\/[^/]+\//, ''));
    // The gateway writes its line after the response is out: give the last one time to land.
    await new Promise((res) => setTimeout(res, 500));
    const routes: Record<string, number> = {};
    for (const req of parseLog(readFileSync(logFile, 'utf8').slice(before))) {
      if (!req.route) continue;
      const route = routeKey(req.route).replace('{session_id}', '{id}');
      routes[route] = (routes[route] ?? 0) + 1;
    }
    const total = Object.values(routes).reduce((a, b) => a + b, 0);
    const row = { size: c.size, chunk: r.chunk_size, parts: r.parts_total, routes, total, limit: apiCallLimit(r.parts_total), mibps: c.size / MiB / (r.duration_ms / 1000) };
    out.push(row);
    log(`api calls ${c.size / MiB} MiB (${row.parts} parts of ${row.chunk / MiB} MiB): ${total} (target <= ${row.limit}) ${JSON.stringify(routes)}`);
  }
  return out;
}
