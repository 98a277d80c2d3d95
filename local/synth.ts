/**
 * `cdk synth` of the real stack for the local cloud, cached by content.
 *
 * The local cloud runs what would deploy: MpuStack (HTTP API variant) with the settings the local
 * cloud needs (minimum part size, URL expiry, CORS origins, ...) as CDK settings, so they land in
 * the template like on AWS, bundled by the stack's own NodejsFunction/esbuild. Synthesizing takes
 * tens of seconds (bundling), so the cloud assembly is kept in `.local/synth/<hash>/`, keyed by a
 * hash of everything that affects it: lambdas/, contract/, lib/, bin/, cdk.json, package-lock.json,
 * tsconfig.json, the settings and the stack name. An unchanged tree starts from the cache.
 *
 * The synth itself runs in a child process (synth-main.ts): CDK bundles with spawnSync, which
 * would block this process while Ceph and DynamoDB Local start in parallel.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MpuSettings } from '../lib/settings.js';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What decides the synthesized output (besides the settings). */
export const SYNTH_INPUTS = ['lambdas', 'contract', 'lib', 'bin', 'cdk.json', 'package-lock.json', 'tsconfig.json'] as const;

/** The file the child writes next to the assembly: what was synthesized from what. */
export const SYNTH_MANIFEST = 'mpu-synth.json';

/**
 * Cache entries kept: after a synth, entries beyond the 12 most recently used are deleted once
 * unused for an hour (each is about 11 MB). A running cloud runs its functions from its entry and
 * a worker started later (a cold start) must still find the bundle, so it marks its entry used
 * every few minutes (keepEntryAlive).
 */
const KEEP_ENTRIES = 12;
const KEEP_UNUSED_MS = 3600 * 1000;
const ALIVE_INTERVAL_MS = 5 * 60 * 1000;

/** Settings the local cloud synthesizes with: JSON-serializable, part of the cache key. */
export type SynthSettings = Partial<MpuSettings>;

export interface SynthRequest {
  settings: SynthSettings;
  stackName: string;
}

export interface SynthResult {
  /** The cloud assembly directory (cdk.out layout). */
  dir: string;
  templateFile: string;
  stackName: string;
  hash: string;
  cached: boolean;
  /** Time to synthesize (0 on a cache hit) or to find the cached entry. */
  ms: number;
}

export class SynthError extends Error {
  override readonly name = 'SynthError';
}

function filesUnder(root: string, rel: string, out: string[]): void {
  const abs = join(root, rel);
  if (!existsSync(abs)) return;
  const st = statSync(abs);
  if (st.isFile()) {
    out.push(rel);
    return;
  }
  for (const name of readdirSync(abs).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    filesUnder(root, join(rel, name), out);
  }
}

/** Content hash of the synth inputs, the settings (key order normalized) and the stack name. */
export function synthInputsHash(req: SynthRequest, root = PROJECT_ROOT): string {
  const h = createHash('sha256');
  const files: string[] = [];
  for (const input of SYNTH_INPUTS) filesUnder(root, input, files);
  for (const f of files) {
    h.update(`${relative(root, join(root, f))}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  h.update(JSON.stringify({ stackName: req.stackName, settings: sortKeys(req.settings), node: process.versions.node }));
  return h.digest('hex').slice(0, 24);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  }
  return v;
}

export function synthCacheRoot(root = PROJECT_ROOT): string {
  return join(root, '.local', 'synth');
}

const require = createRequire(import.meta.url);

function runChild(req: SynthRequest, outdir: string): Promise<void> {
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const main = join(fileURLToPath(new URL('.', import.meta.url)), 'synth-main.ts');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, main, outdir, JSON.stringify(req)],
      { cwd: PROJECT_ROOT, env: { ...process.env, NODE_OPTIONS: '' }, maxBuffer: 16 * 1024 * 1024 },
      (err, _stdout, stderr) => {
        if (err) reject(new SynthError(`cdk synth of ${req.stackName} failed: ${err.message}\n${stderr}`));
        else resolve();
      },
    );
  });
}

/** Marks `dir` used now and every few minutes until the returned function is called. */
export function keepEntryAlive(dir: string): () => void {
  const timer = setInterval(() => touch(dir), ALIVE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Touches an entry so pruning keeps the ones in use. */
function touch(dir: string): void {
  const now = new Date();
  try {
    // The directory's mtime orders the entries for pruning.
    utimesSync(dir, now, now);
  } catch {
    // Another process pruned it in between: the caller fails loudly when it reads the template.
  }
}

function prune(cacheRoot: string, keep: string): void {
  const entries = readdirSync(cacheRoot)
    .filter((n) => !n.startsWith('tmp-') && n !== keep)
    .map((n) => ({ n, t: statSync(join(cacheRoot, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  const cutoff = Date.now() - KEEP_UNUSED_MS;
  for (const e of entries.slice(KEEP_ENTRIES - 1)) {
    if (e.t < cutoff) rmSync(join(cacheRoot, e.n), { recursive: true, force: true });
  }
}

/**
 * The synthesized stack for `req`, from the cache or synthesized now. Several processes may ask
 * for the same entry at once (parallel e2e files): each synthesizes into its own temporary
 * directory and renames it into place; the first rename wins and the others use it.
 */
export async function synthesize(req: SynthRequest, opts: { cacheRoot?: string; log?: (line: string) => void } = {}): Promise<SynthResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => undefined);
  const cacheRoot = opts.cacheRoot ?? synthCacheRoot();
  const hash = synthInputsHash(req);
  const dir = join(cacheRoot, hash);
  const templateFile = join(dir, `${req.stackName}.template.json`);
  if (existsSync(join(dir, SYNTH_MANIFEST))) {
    touch(dir);
    const ms = Date.now() - t0;
    log(`synth: cache hit ${hash} (${ms} ms)`);
    return { dir, templateFile, stackName: req.stackName, hash, cached: true, ms };
  }
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `tmp-${hash}-${process.pid}-${Date.now()}`);
  try {
    await runChild(req, tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Someone else put the same entry in place first: theirs is as good as ours.
      if (!existsSync(join(dir, SYNTH_MANIFEST))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  prune(cacheRoot, hash);
  const ms = Date.now() - t0;
  log(`synth: ${req.stackName} synthesized in ${ms} ms (cache miss ${hash})`);
  return { dir, templateFile, stackName: req.stackName, hash, cached: false, ms };
}
