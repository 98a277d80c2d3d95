#!/usr/bin/env node
/**
 * Builds the example pages into static files (default web/dist/, or --out DIR): the two pages,
 * their esbuild bundles (ESM, browser), the MD5 worker beside them, and Uppy's stylesheets. The
 * result is plain files any static host serves (docs/browser.md); `config.json` (the API URL and
 * token) is not part of the build: the host writes it.
 *
 *   node web/build.mjs [--out DIR] [--quiet]
 *
 * Plain JavaScript: it runs before anything is compiled.
 */
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const OUT = resolve(outIdx >= 0 ? args[outIdx + 1] : join(HERE, 'dist'));
const quiet = args.includes('--quiet');
const require = createRequire(import.meta.url);

const t0 = Date.now();
mkdirSync(OUT, { recursive: true });
const esbuild = await import('esbuild');
const result = await esbuild.build({
  absWorkingDir: HERE,
  entryPoints: { upload: 'upload.ts', uppy: 'uppy.ts', 'hash-worker': '../client/browser/hash-worker.ts' },
  outdir: OUT,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
for (const f of ['upload.html', 'uppy.html', 'page.css']) copyFileSync(join(HERE, f), join(OUT, f));
const css = ['@uppy/core/css/style.min.css', '@uppy/dashboard/css/style.min.css'].map((p) => readFileSync(require.resolve(p), 'utf8'));
writeFileSync(join(OUT, 'uppy.css'), css.join('\n'));
writeFileSync(join(OUT, 'index.html'), '<!doctype html><meta http-equiv="refresh" content="0; url=upload.html"><a href="upload.html">upload</a>\n');
if (!quiet) {
  const sizes = Object.keys(result.metafile.outputs)
    .filter((f) => f.endsWith('.js'))
    .map((f) => `${f.split('/').pop()} ${(statSync(resolve(HERE, f)).size / 1024).toFixed(1)} KiB`);
  process.stderr.write(`web build: ${OUT} in ${Date.now() - t0} ms (${sizes.join(', ')})\n`);
}
