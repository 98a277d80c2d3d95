/**
 * `npx tsx bench/bundles.ts`: size and cold import time of every Lambda bundle.
 *
 * Each handler (lambdas/handlers/<id>.ts) is bundled by esbuild with the options the stack gives
 * NodejsFunction (BUNDLING in lib/constructs/handler-function.ts, translated below the way
 * aws-cdk-lib turns them into esbuild flags), so the bytes are those `cdk synth` ships. Then each
 * bundle is imported by N fresh Node processes (this Node: run it through npx/npm so it is the
 * Node 24 of node_modules, the Lambda runtime's major), with the function's NODE_OPTIONS
 * (`--enable-source-maps`, as on Lambda). Reported: the median wall time from just before
 * `await import()` to just after, and the median CPU time (user + system) the import cost, which
 * other load on the machine disturbs less.
 *
 * Options:
 *   --before DIR      also bundle DIR's handlers (another checkout, e.g. `git archive <commit>`
 *                     unpacked, with node_modules linked) and alternate the imports of both, so
 *                     machine load hits both sides alike; the table shows before -> after
 *   --runs N          fresh processes per bundle (default 11; the median of >= 5 is meaningful)
 *   --functions a,b   subset of function ids
 *   --json FILE       also write the results as JSON
 *   --top N           the N biggest packages of each bundle (esbuild metafile), default 3
 *   --tracing         bundle as with `-c tracing=true` (Powertools Tracer and the X-Ray SDK inside)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { BUNDLING, PROJECT_ROOT, bundleDefines } from '../lib/constructs/handler-function.js';
import { median } from './lib/stats.js';

const FUNCTION_IDS = ['init', 'parts', 'status', 'complete', 'abort', 'sweep', 'authorizer', 'router'] as const;

/** The esbuild options aws-cdk-lib derives from NodejsFunction's bundling props (lib/aws-lambda-nodejs/lib/bundling.ts). */
export function esbuildOptions(entry: string, outfile: string, tracing = false): BuildOptions {
  return {
    entryPoints: [entry],
    bundle: true,
    outfile,
    platform: 'node',
    target: BUNDLING.target,
    format: BUNDLING.format,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    external: [...BUNDLING.externalModules],
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    define: bundleDefines(tracing),
    logLevel: 'warning',
  };
}

export interface BundleMeasure {
  id: string;
  bytes: number;
  /** Medians over the runs. */
  importMs: number;
  importCpuMs: number;
  runs: { wallMs: number; cpuMs: number }[];
  /** Biggest contributors to the output, by package (node_modules/<pkg>) or `own code`. */
  top: { name: string; bytes: number }[];
}

interface Bundle {
  id: string;
  file: string;
  bytes: number;
  top: { name: string; bytes: number }[];
}

/** Output bytes per package, from the metafile's per-input breakdown of the one output. */
function byPackage(meta: Metafile): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)(\/.*)?$/.exec(input);
      let name = m ? m[1]! : 'own code';
      // zod's locales are the part worth naming on their own.
      if (m && name === 'zod' && m[2]?.includes('/locales/') && !m[2].endsWith('/locales/en.js')) name = 'zod (locales)';
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return sizes;
}

async function bundle(root: string, id: string, dir: string, tracing: boolean, top: number): Promise<Bundle | undefined> {
  const entry = path.join(root, 'lambdas', 'handlers', `${id}.ts`);
  if (!existsSync(entry)) return undefined;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'index.mjs');
  const { metafile } = await build({ ...esbuildOptions(entry, file, tracing), absWorkingDir: root, metafile: true });
  const parts = [...byPackage(metafile).entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => ({ name, bytes }));
  return { id, file, bytes: statSync(file).size, top: parts };
}

/** One fresh process importing the bundle: wall and CPU milliseconds of the import alone. */
function importOnce(file: string): { wallMs: number; cpuMs: number } {
  const script =
    'const c = process.cpuUsage(); const t = performance.now(); await import(process.env.MPU_BUNDLE_URL);' +
    'const wall = performance.now() - t; const u = process.cpuUsage(c);' +
    'process.stdout.write(JSON.stringify({ wallMs: wall, cpuMs: (u.user + u.system) / 1000 }));';
  const r = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    // Outside Lambda nothing is configured; the handlers build their clients on first use, not at import.
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', MPU_BUNDLE_URL: pathToFileURL(file).href },
  });
  if (r.status !== 0) throw new Error(`import of ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { wallMs: number; cpuMs: number };
}

function summarizeRuns(b: Bundle, runs: { wallMs: number; cpuMs: number }[]): BundleMeasure {
  return {
    id: b.id,
    bytes: b.bytes,
    importMs: median(runs.map((r) => r.wallMs)),
    importCpuMs: median(runs.map((r) => r.cpuMs)),
    runs,
    top: b.top,
  };
}

/**
 * Bundles every function of each root, then imports them round-robin (root by root within each
 * round), so a burst of load on the machine falls on all sides alike.
 */
export async function measureBundles(opts: {
  roots: readonly string[];
  runs: number;
  ids: readonly string[];
  top: number;
  tracing: boolean;
}): Promise<BundleMeasure[][]> {
  const work = mkdtempSync(path.join(tmpdir(), 'mpu-bundles-'));
  try {
    const bundles: (Bundle | undefined)[][] = [];
    for (const [i, root] of opts.roots.entries()) {
      bundles.push(await Promise.all(opts.ids.map((id) => bundle(root, id, path.join(work, String(i), id), opts.tracing, opts.top))));
    }
    const runs = bundles.map((side) => side.map(() => [] as { wallMs: number; cpuMs: number }[]));
    for (let round = 0; round < opts.runs; round++) {
      for (let f = 0; f < opts.ids.length; f++) {
        for (let side = 0; side < bundles.length; side++) {
          const b = bundles[side]![f];
          if (b) runs[side]![f]!.push(importOnce(b.file));
        }
      }
    }
    return bundles.map((side, s) => side.flatMap((b, f) => (b ? [summarizeRuns(b, runs[s]![f]!)] : [])));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** KiB, as the issue counted (its "970 KB" bundles are 995,000 bytes). */
const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
const ms = (n: number) => `${n.toFixed(0)} ms`;
const parts = (r: BundleMeasure) => r.top.map((t) => `${t.name} ${kib(t.bytes)}`).join(', ');

export function markdownTable(after: readonly BundleMeasure[], before?: readonly BundleMeasure[]): string {
  if (!before) {
    const lines = ['| function | bundle | import, wall | import, CPU | biggest parts |', '| --- | ---: | ---: | ---: | --- |'];
    for (const r of after) lines.push(`| ${r.id} | ${kib(r.bytes)} | ${ms(r.importMs)} | ${ms(r.importCpuMs)} | ${parts(r)} |`);
    return lines.join('\n');
  }
  const lines = [
    '| function | bundle before → after | import, wall: before → after | import, CPU: before → after | biggest parts after |',
    '| --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of after) {
    const b = before.find((x) => x.id === r.id);
    const pair = (f: (x: BundleMeasure) => string) => (b ? `${f(b)} → ${f(r)}` : f(r));
    lines.push(`| ${r.id} | ${pair((x) => kib(x.bytes))} | ${pair((x) => ms(x.importMs))} | ${pair((x) => ms(x.importCpuMs))} | ${parts(r)} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      runs: { type: 'string', default: '11' },
      functions: { type: 'string' },
      json: { type: 'string' },
      top: { type: 'string', default: '3' },
      tracing: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  const ids = values.functions ? values.functions.split(',') : FUNCTION_IDS;
  const roots = [PROJECT_ROOT, ...(values.before ? [path.resolve(values.before)] : [])];
  process.stderr.write(
    `bundling ${ids.join(', ')}${values.tracing ? ' with tracing' : ''} from ${roots.join(' and ')}; ` +
      `${runs} imports each on Node ${process.version}\n`,
  );
  const [after, before] = await measureBundles({ roots, runs, ids, top: Number(values.top), tracing: values.tracing! });
  console.log(markdownTable(after!, before));
  if (values.json) {
    writeFileSync(values.json, JSON.stringify({ node: process.version, runs, tracing: values.tracing, after, before }, null, 2));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
