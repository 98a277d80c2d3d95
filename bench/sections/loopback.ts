/**
 * Section `loopback`: mpu against the storage's multipart floor (presigned UploadPart from
 * memory, no hashing, no API) at the same part size and the same fixed concurrency, plus mpu at
 * its defaults, the single-PUT ceiling and the other tools at their defaults; all against RGW
 * directly, interleaved with the order rotated each repetition. CPU and peak RSS come from GNU
 * time for the whole process (start-up included), the same for every tool.
 */
import { rotated } from '../lib/order.js';
import { label, type Run, type Runners, type Target, type ToolSpec } from '../lib/runners.js';
import { GiB, MiB, summarize, type Summary } from '../lib/stats.js';

export interface LoopbackConfig {
  size: number;
  reps: number;
  /** Fixed concurrencies and part sizes (MiB) at which mpu meets the floor. */
  concurrency: readonly number[];
  partMiB: readonly number[];
  withAws: boolean;
}

export interface LoopbackResult {
  size: number;
  /** floorMd5: the floor hashing each part and sending Content-MD5, as mpu does. */
  pairs: { concurrency: number; partMiB: number; floor: string; floorMd5: string; mpu: string }[];
  runs: Omit<Run, 'spec'>[];
  /** upload_mibps (mpu only): the size over its upload phase alone, without init and complete through the API. */
  summary: Record<string, { mibps: Summary; cpu_s_per_gib: Summary; max_rss_mib: Summary; upload_mibps?: Summary }>;
  failures: string[];
}

export async function runLoopback(o: { cfg: LoopbackConfig; file: string; runners: Runners; target: Target; log: (s: string) => void }): Promise<LoopbackResult> {
  const { cfg, file, runners, target, log } = o;
  const pairs: LoopbackResult['pairs'] = [];
  const specs: ToolSpec[] = [{ tool: 'raw-mem' }];
  for (const concurrency of cfg.concurrency) {
    for (const partMiB of cfg.partMiB) {
      const floor: ToolSpec = { tool: 'floor', concurrency, chunk: partMiB * MiB };
      const floorMd5: ToolSpec = { tool: 'floor-md5', concurrency, chunk: partMiB * MiB };
      const mpu: ToolSpec = { tool: 'mpu', concurrency, chunk: partMiB * MiB };
      specs.push(floor, floorMd5, mpu);
      pairs.push({ concurrency, partMiB, floor: label(floor), floorMd5: label(floorMd5), mpu: label(mpu) });
    }
  }
  specs.push({ tool: 'mpu' }, { tool: 'lib-storage' });
  if (cfg.withAws) specs.push({ tool: 'aws-cli' });
  const failures: string[] = [];
  const runs: Run[] = [];
  log(`loopback ${cfg.size / MiB} MiB: warm-up`);
  await runners.run({ tool: 'mpu' }, file, cfg.size, -1, target);
  await runners.run({ tool: 'floor', concurrency: 4, chunk: 5 * MiB }, file, cfg.size, -1, target);
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const spec of rotated(specs, rep)) {
      try {
        const r = await runners.run(spec, file, cfg.size, rep, target);
        runs.push(r);
        log(`loopback rep ${rep + 1}/${cfg.reps} ${r.label.padEnd(20)} ${r.mibps.toFixed(1)} MiB/s  cpu ${r.cpuS.toFixed(2)} s  rss ${(r.maxRssBytes / MiB).toFixed(0)} MiB${r.chunk ? `  (${r.parts} x ${r.chunk / MiB} MiB)` : ''}`);
      } catch (e) {
        failures.push(`${label(spec)} rep ${rep}: ${String(e).slice(0, 400)}`);
        log(`loopback ${label(spec)}: FAILED ${String(e).slice(0, 200)}`);
      }
    }
  }
  const summary: LoopbackResult['summary'] = {};
  for (const l of new Set(runs.map((r) => r.label))) {
    const rs = runs.filter((r) => r.label === l);
    const uploads = rs.flatMap((r) => (r.timings?.upload_ms ? [cfg.size / MiB / (r.timings.upload_ms / 1000)] : []));
    summary[l] = {
      mibps: summarize(rs.map((r) => r.mibps)),
      cpu_s_per_gib: summarize(rs.map((r) => r.cpuS / (cfg.size / GiB))),
      max_rss_mib: summarize(rs.map((r) => r.maxRssBytes / MiB)),
      ...(uploads.length === rs.length ? { upload_mibps: summarize(uploads) } : {}),
    };
  }
  return { size: cfg.size, pairs, runs: runs.map(({ spec: _spec, ...r }) => r), summary, failures };
}
