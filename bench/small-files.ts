/**
 * Many small files: files per second for a tree of N files of S bytes (default 10,000 x 4 KiB)
 * through the running local cloud, `mpu upload DIR` against `aws s3 cp --recursive` on the same
 * tree (the aws CLI when it is on PATH; it is not installed by this repository).
 *
 *   tsx bench/small-files.ts [--files 10000] [--size 4096] [--concurrency 16] [--runs 1]
 *
 * Each tool runs as its own process under /usr/bin/time (wall time, peak RSS); mpu without a
 * state directory of its own from before (a fresh one per run), so every file is sent. Writes
 * bench/results/small-files.json; the numbers in docs/benchmarks.md come from it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findEndpointsFile } from '../client/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    size: { type: 'string', default: '4096' },
    concurrency: { type: 'string', default: '16' },
    runs: { type: 'string', default: '1' },
  },
});
const files = Number(values.files);
const size = Number(values.size);
const concurrency = Number(values.concurrency);
const runs = Number(values.runs);

const endpointsFile = process.env.MPU_ENDPOINTS_FILE ?? findEndpointsFile(ROOT);
if (!endpointsFile) throw new Error('no local cloud: start one (npm run local) or set MPU_ENDPOINTS_FILE');
const ep = JSON.parse(readFileSync(endpointsFile, 'utf8')) as Record<string, string>;

const work = mkdtempSync(join(tmpdir(), 'mpu-small-files-'));
const tree = join(work, 'tree');
const perDir = 100;
for (let i = 0; i < files; i++) {
  const d = join(tree, `d${String(Math.floor(i / perDir)).padStart(4, '0')}`);
  if (i % perDir === 0) mkdirSync(d, { recursive: true });
  writeFileSync(join(d, `f${String(i % perDir).padStart(3, '0')}.bin`), randomBytes(size));
}

interface Run {
  tool: string;
  wall_s: number;
  max_rss_mib: number;
  files_per_s: number;
  loadavg_1m: number;
}

/** Runs `cmd` under GNU time; fails the benchmark if the tool fails. */
function timed(tool: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): Run {
  const timeFile = join(work, 'time.txt');
  const load = loadavg()[0]!;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, cmd, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${tool} failed (exit ${r.status}): ${r.stderr.toString().slice(-2000)}`);
  const [wall, rssKiB] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
  return { tool, wall_s: wall, max_rss_mib: Math.round((rssKiB / 1024) * 10) / 10, files_per_s: Math.round((files / wall) * 10) / 10, loadavg_1m: Math.round(load * 10) / 10 };
}

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const awsVersion = hasAws ? execFileSync('aws', ['--version']).toString().trim() : null;
const results: Run[] = [];
const node = join(ROOT, 'node_modules/.bin/node');
for (let i = 0; i < runs; i++) {
  const state = join(work, `state-${i}`);
  results.push(
    timed('mpu', node, [join(ROOT, 'client/bin/mpu.mjs'), 'upload', tree, '--concurrency', String(concurrency), '--no-progress', '--quiet', '--state-dir', state], {
      ...process.env,
      MPU_ENDPOINTS_FILE: endpointsFile,
    }),
  );
  if (hasAws) {
    results.push(
      timed('aws-cli', 'aws', ['--endpoint-url', ep.s3_endpoint!, 's3', 'cp', '--recursive', '--only-show-errors', tree, `s3://${ep.bucket}/bench-small-files/${i}/`], {
        ...process.env,
        AWS_ACCESS_KEY_ID: ep.access_key_id,
        AWS_SECRET_ACCESS_KEY: ep.secret_access_key,
        AWS_REGION: ep.region,
      }),
    );
  }
}
rmSync(work, { recursive: true, force: true });

const out = {
  started_at: new Date().toISOString(),
  files,
  size,
  concurrency,
  aws_cli: awsVersion,
  machine: { cpus: cpus().length, node: process.version },
  results,
};
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/small-files.json'), `${JSON.stringify(out, null, 2)}\n`);
for (const r of results) console.log(`${r.tool.padEnd(8)} ${String(r.files_per_s).padStart(7)} files/s  ${r.wall_s} s  ${r.max_rss_mib} MiB  (load ${r.loadavg_1m})`);
if (!hasAws) console.log('aws CLI not on PATH: no baseline row (pip install awscli)');
