/**
 * Section `wan`: for each WAN profile (bench/lib/wan-profiles.ts), the best fixed mpu setting
 * found by a pruned grid search, against mpu's defaults, aws-cli's defaults and lib-storage's
 * defaults, all through the same shaping proxy: mpu via the API proxy and presigned URLs to the
 * S3 proxy, the S3 tools straight to the S3 proxy. One proxy pair serves every profile
 * (reshaped between profiles), so the handlers presign for one URL.
 */
import { finalists, screen, type Screened } from '../lib/grid-search.js';
import { rotated } from '../lib/order.js';
import type { ShapingProxy } from '../lib/proxy.js';
import { label, type Run, type Runners, type Target, type ToolSpec } from '../lib/runners.js';
import { MiB, summarize, type Summary } from '../lib/stats.js';
import type { WanProfile } from '../lib/wan-profiles.js';

export interface WanConfig {
  size: number;
  reps: number;
  /** Screened settings re-measured as "best fixed" candidates. */
  finalists: number;
  grid: { concurrency: readonly number[]; partMiB: readonly number[] };
  profiles: readonly WanProfile[];
  withAws: boolean;
}

export interface WanProfileResult {
  profile: WanProfile;
  screening: Screened[];
  runs: Omit<Run, 'spec'>[];
  summary: Record<string, Summary>;
  /** Label of the best finalist (highest median in the repeated runs). */
  best: string;
  failures: string[];
}

export async function runWan(o: {
  cfg: WanConfig;
  file: string;
  runners: Runners;
  s3Proxy: ShapingProxy;
  apiProxy: ShapingProxy;
  target: Target;
  log: (s: string) => void;
}): Promise<WanProfileResult[]> {
  const { cfg, file, runners, target, log } = o;
  const out: WanProfileResult[] = [];
  for (const p of cfg.profiles) {
    o.s3Proxy.reshape({ rttMs: p.rttMs, connBytesPerSec: p.connBytesPerSec, linkBytesPerSec: p.linkBytesPerSec });
    // The API is far away too: same RTT, no rate cap.
    o.apiProxy.reshape({ rttMs: p.rttMs, connBytesPerSec: 0, linkBytesPerSec: 0 });
    const failures: string[] = [];
    const tag = `wan ${p.id}`;
    const attempt = async (spec: ToolSpec, rep: number): Promise<Run | undefined> => {
      try {
        return await runners.run(spec, file, cfg.size, rep, target);
      } catch (e) {
        failures.push(`${label(spec)} rep ${rep}: ${String(e).slice(0, 400)}`);
        log(`${tag} ${label(spec)}: FAILED ${String(e).slice(0, 200)}`);
        return undefined;
      }
    };
    // Warm-up: connections, the API's first calls, the page cache for the file.
    await attempt({ tool: 'mpu', concurrency: 8, chunk: 8 * MiB }, -1);
    const screening = await screen(cfg.grid, cfg.size / MiB, async (s) => {
      const r = await attempt({ tool: 'mpu', concurrency: s.concurrency, chunk: s.partMiB * MiB }, 0);
      if (r) log(`${tag} screen ${r.label}: ${r.mibps.toFixed(1)} MiB/s`);
      return r?.mibps;
    });
    const top: ToolSpec[] = finalists(screening, cfg.finalists).map((s) => ({ tool: 'mpu', concurrency: s.concurrency, chunk: s.partMiB * MiB }));
    const specs: ToolSpec[] = [...top, { tool: 'mpu' }, { tool: 'lib-storage' }, ...(cfg.withAws ? [{ tool: 'aws-cli' } as const] : [])];
    const runs: Run[] = [];
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const spec of rotated(specs, rep)) {
        const r = await attempt(spec, rep);
        if (!r) continue;
        runs.push(r);
        log(`${tag} rep ${rep + 1}/${cfg.reps} ${r.label.padEnd(20)} ${r.mibps.toFixed(1)} MiB/s${r.workers?.mode === 'auto' && r.trace?.length ? ` (workers ${r.trace.map((x) => x.n).join('>')})` : ''}`);
      }
    }
    const summary: Record<string, Summary> = {};
    for (const l of new Set(runs.map((r) => r.label))) summary[l] = summarize(runs.filter((r) => r.label === l).map((r) => r.mibps));
    const best = top.map(label).filter((l) => summary[l]).sort((a, b) => summary[b]!.median - summary[a]!.median)[0] ?? '';
    out.push({ profile: p, screening, runs: runs.map(({ spec: _spec, ...r }) => r), summary, best, failures });
  }
  return out;
}
