#!/usr/bin/env node
/**
 * Builds the @mpu/client package into client/dist:
 * - dist/cli.js and dist/index.js: esbuild bundles (ESM, Node 22) of client/cli.ts and
 *   client/index.ts with the contract (../contract) bundled in and npm packages left as imports,
 *   so they come from the package's `dependencies`; shared code goes to dist/chunks/.
 * - dist/browser.js and dist/hash-worker.js: the browser entry (client/browser/) and its MD5
 *   worker, bundled for browsers with nothing left external.
 * - dist/types/: tsc declarations of the library (tsconfig.build.json).
 *
 *   node client/build.mjs              # both
 *   node client/build.mjs --js         # bundles only (what the CLI needs; the e2e setup uses this)
 *   node client/build.mjs --if-stale   # nothing if dist is newer than every source
 *
 * Plain JavaScript: it runs on a clean checkout before anything is compiled.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST = join(HERE, 'dist');
/** Written last: its mtime says when dist was complete, and which parts it holds. */
const STAMP = join(DIST, '.build-stamp');
/** What the bundles are made of: a change to any of these makes dist stale. */
const SOURCES = [HERE, join(HERE, '..', 'contract')];

const args = new Set(process.argv.slice(2));
const jsOnly = args.has('--js');
const quiet = args.has('--quiet');
const log = (m) => quiet || process.stderr.write(`client build: ${m}\n`);

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|mjs|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function stale() {
  if (!existsSync(STAMP)) return true;
  // A JS-only build does not satisfy a request for the declarations too.
  if (!jsOnly && !existsSync(join(DIST, 'types', 'client', 'index.d.ts'))) return true;
  const built = statSync(STAMP).mtimeMs;
  return SOURCES.some((d) => newestSource(d) > built);
}

if (args.has('--if-stale') && !stale()) process.exit(0);

const require = createRequire(import.meta.url);
const t0 = Date.now();
// Built beside dist and swapped in at the end: a CLI started meanwhile (parallel test runs share
// the checkout) sees the old build or the new one, never a half-written directory.
const OUT = `${DIST}.tmp-${process.pid}`;
rmSync(OUT, { recursive: true, force: true });
const esbuild = await import('esbuild');
await esbuild.build({
  absWorkingDir: HERE,
  entryPoints: { cli: 'cli.ts', index: 'index.ts' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // commander, cli-progress stay imports: installed from the package's dependencies.
  packages: 'external',
  legalComments: 'none',
  // `mpu --version` (client/cli.ts): one source of truth, this package.json.
  define: { MPU_CLIENT_VERSION: JSON.stringify(JSON.parse(readFileSync(join(HERE, 'package.json'), 'utf8')).version) },
  logLevel: 'warning',
});
// The browser entry (@mpu/client/browser): ESM for browsers, everything bundled (hash-wasm goes
// into the worker); the MD5 worker beside it, where browser.js looks for it. platform 'browser'
// makes a Node built-in reached from the entry a build error.
const web = await esbuild.build({
  absWorkingDir: HERE,
  entryPoints: { browser: 'browser/index.ts', 'hash-worker': 'browser/hash-worker.ts' },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const sizes = Object.entries(web.metafile.outputs).map(([f, o]) => `${f.split('/').pop()} ${(o.bytes / 1024).toFixed(1)} KiB`);
log(`bundles in ${Date.now() - t0} ms (${sizes.join(', ')})`);

if (!jsOnly) {
  const t1 = Date.now();
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(HERE, 'tsconfig.build.json'), '--outDir', join(OUT, 'types')], { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(OUT, { recursive: true, force: true });
    process.stderr.write('client build: tsc (declarations) failed\n');
    process.exit(1);
  }
  const rb = spawnSync(process.execPath, [tsc, '-p', join(HERE, 'browser', 'tsconfig.build.json'), '--outDir', join(OUT, 'types')], { stdio: 'inherit' });
  if (rb.status !== 0) {
    rmSync(OUT, { recursive: true, force: true });
    process.stderr.write('client build: tsc (browser declarations) failed\n');
    process.exit(1);
  }
  log(`declarations in ${Date.now() - t1} ms`);
}
writeFileSync(join(OUT, '.build-stamp'), `${new Date().toISOString()} ${jsOnly ? 'js' : 'js+types'}\n`);
const old = `${DIST}.old-${process.pid}`;
if (existsSync(DIST)) renameSync(DIST, old);
renameSync(OUT, DIST);
rmSync(old, { recursive: true, force: true });
