/**
 * `npm run bench:client`: the installed client package, as an uploader runs it. Packs client/
 * (`npm pack`, which builds it), installs the tarball into a temporary prefix
 * (`npm install -g --prefix`), then measures with GNU time, median of --reps runs:
 *   - `mpu --help`: wall time and peak RSS (targets: <= 150 ms, <= 60 MiB);
 *   - `mpu upload` of a --size-mib file at defaults against a running local cloud (the endpoints
 *     file of --endpoints, MPU_ENDPOINTS_FILE or .local/endpoints.json): peak RSS (target: <= 100 MiB).
 * --before DIR measures DIR/client/bin/mpu.mjs the same way (a checkout of an older commit, e.g.
 * a `git worktree` with node_modules linked), for a before/after table. The installed `mpu` runs
 * with only the Node binary this script runs on in PATH, from a temporary directory.
 * Prints a Markdown table; writes bench/results/client-package.json (or --out).
 */
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, MiB } from './lib/stats.js';
import { lastJson, measure, type Measured } from './lib/measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '7' },
    'size-mib': { type: 'string', default: '256' },
    endpoints: { type: 'string' },
    before: { type: 'string' },
    'no-upload': { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench/results/client-package.json') },
  },
});
const REPS = Number(args.reps);
const SIZE = Number(args['size-mib']) * MiB;
const log = (s: string) => process.stderr.write(`[bench:client] ${s}\n`);

const work = mkdtempSync(join(tmpdir(), 'mpu-bench-client-'));
/** No npm settings of the npm that runs us, no MPU_ configuration, no NODE_OPTIONS. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|MPU_|NODE_OPTIONS$|XDG_)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function packAndInstall(): { bin: string; tarballBytes: number; installedDeps: string[] } {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: join(ROOT, 'client'), env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const info = (JSON.parse(out.slice(out.indexOf('[\n'))) as { filename: string; size: number }[])[0]!;
  const prefix = join(work, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, info.filename)], { cwd: work, env: cleanEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
  const tree = JSON.parse(
    execFileSync('npm', ['ls', '-g', '--prefix', prefix, '--all', '--json'], { cwd: work, env: cleanEnv(), encoding: 'utf8' }),
  ) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> };
  const names = new Set<string>();
  const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined) => {
    for (const [n, d] of Object.entries(deps ?? {})) {
      names.add(n);
      walk(d.dependencies as typeof deps);
    }
  };
  walk(tree.dependencies);
  return { bin: join(prefix, 'bin', 'mpu'), tarballBytes: info.size, installedDeps: [...names].sort() };
}

// The installed bin's `#!/usr/bin/env node` finds this Node (24) and nothing else of the repository.
const nodeDir = join(work, 'node-only');
mkdirSync(nodeDir);
symlinkSync(process.execPath, join(nodeDir, 'node'));
const home = join(work, 'home');
mkdirSync(home);
const userEnv = cleanEnv({ PATH: nodeDir, HOME: home });

interface Row {
  what: string;
  wall_ms: number[];
  rss_mib: number[];
}

async function repeat(what: string, cmd: string, argv: string[], after?: (m: Measured) => Promise<void> | void): Promise<Row> {
  const row: Row = { what, wall_ms: [], rss_mib: [] };
  for (let i = 0; i < REPS; i++) {
    const m = await measure(cmd, argv, { env: userEnv, timeoutMs: 10 * 60_000 });
    if (m.code !== 0) throw new Error(`${what} exited ${m.code}: ${m.stderr.slice(-1500)}`);
    await after?.(m);
    row.wall_ms.push(Math.round(m.wallMs));
    row.rss_mib.push(Number((m.maxRssBytes / MiB).toFixed(1)));
  }
  log(`${what}: median ${median(row.wall_ms)} ms, ${median(row.rss_mib)} MiB`);
  return row;
}

function endpoints(): { api: string; token?: string } | undefined {
  const file = resolve(args.endpoints ?? process.env.MPU_ENDPOINTS_FILE ?? join(ROOT, '.local/endpoints.json'));
  if (!existsSync(file)) return undefined;
  const e = JSON.parse(readFileSync(file, 'utf8')) as { api_url: string; token?: string };
  return { api: e.api_url, ...(e.token ? { token: e.token } : {}) };
}

function randomFile(size: number): string {
  const path = join(work, `file-${size / MiB}MiB.bin`);
  const fd = openSync(path, 'w');
  const block = Buffer.allocUnsafe(8 * MiB);
  for (let done = 0; done < size; done += block.length) writeSync(fd, randomFillSync(block), 0, Math.min(block.length, size - done));
  closeSync(fd);
  return path;
}

const rows: Row[] = [];
try {
  log(`node ${process.version}; packing and installing client/ into ${work}/prefix`);
  const pkg = packAndInstall();
  log(`tarball ${(pkg.tarballBytes / 1024).toFixed(0)} KiB; installed: ${pkg.installedDeps.join(', ')}`);
  const before = args.before ? join(resolve(args.before), 'client/bin/mpu.mjs') : undefined;

  rows.push(await repeat('installed mpu --help', pkg.bin, ['--help']));
  if (before) rows.push(await repeat('before: node client/bin/mpu.mjs --help', process.execPath, [before, '--help']));

  const ep = args['no-upload'] ? undefined : endpoints();
  if (!ep && !args['no-upload']) log('no endpoints file: upload not measured (start a local cloud, or --endpoints FILE)');
  if (ep) {
    const file = randomFile(SIZE);
    const up = ['upload', file, '--api', ep.api, '--json', '--no-progress', '--no-state', ...(ep.token ? ['--token', ep.token] : [])];
    const check = (m: Measured) => {
      const r = lastJson<{ ok: boolean; size: number }>(m);
      if (!r.ok || r.size !== SIZE) throw new Error(`upload failed: ${m.stdout.slice(-500)}`);
    };
    rows.push(await repeat(`installed mpu upload ${SIZE / MiB} MiB`, pkg.bin, up, check));
    if (before) rows.push(await repeat(`before: node client/bin/mpu.mjs upload ${SIZE / MiB} MiB`, process.execPath, [before, ...up], check));
  }

  console.log(`| run (node ${process.version}, median of ${REPS}) | wall ms | peak RSS MiB |`);
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.what} | ${median(r.wall_ms)} (${Math.min(...r.wall_ms)}–${Math.max(...r.wall_ms)}) | ${median(r.rss_mib)} (${Math.min(...r.rss_mib)}–${Math.max(...r.rss_mib)}) |`);
  writeFileSync(args.out!, `${JSON.stringify({ node: process.version, reps: REPS, tarball_bytes: pkg.tarballBytes, installed: pkg.installedDeps, rows }, null, 2)}\n`);
  log(`wrote ${args.out}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
