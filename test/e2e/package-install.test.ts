/**
 * The client as an uploader gets it: `npm pack` in client/, `npm install -g --prefix` of the
 * tarball into an empty prefix (its dependencies come from the npm registry), then the installed
 * `mpu` run from outside the repository with nothing of the repository on PATH but a Node 24
 * binary, uploading to the local cloud. The stored object is read back and compared.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { MiB } from '../../contract/limits.js';
import { e2eTarget, s3Client, type E2ETarget } from './helpers/cloud.js';
import { lastJson, NODE, ROOT } from './helpers/procs.js';
import { parseFilePath, sha256File, sha256Object } from './helpers/storage.js';

const run = promisify(execFile);
/** Packing builds the package (prepack); installing fetches its dependencies. */
const SETUP_TIMEOUT_MS = 300_000;
const UPLOAD_TIMEOUT_MS = 120_000;
/** What must never reach an uploader's machine through this package. */
const FORBIDDEN = /^(tsx|typescript|esbuild|aws-cdk|aws-cdk-lib|constructs|cdk-nag|@aws-sdk\/.*|@aws-lambda-powertools\/.*|jest)$/;

/** The environment of a child: no Jest NODE_OPTIONS, no settings of the npm that runs Jest, no MPU_/AWS_/XDG_. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || /^(npm_|MPU_|AWS_|XDG_)/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

let ep: E2ETarget;
let dir: string;
let tarball: string;
let packedFiles: string[];
let prefix: string;
/** PATH for the installed mpu: its bin directory and a directory holding only `node` (24). */
let userPath: string;
const stored: string[] = [];

beforeAll(async () => {
  ep = e2eTarget();
  dir = mkdtempSync(join(tmpdir(), 'mpu-pkg-e2e-'));
  const npmEnv = cleanEnv({ npm_config_update_notifier: 'false' });
  // The e2e setup built client/dist (bundles and declarations) before any test started; packing
  // without prepack's rebuild keeps client/dist still for the CLI tests running beside this one.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: join(ROOT, 'client'),
    env: npmEnv,
    maxBuffer: 16 * MiB,
  });
  const json = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, json[0]!.filename);
  packedFiles = json[0]!.files.map((f) => f.path);

  prefix = join(dir, 'prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: dir, env: npmEnv, maxBuffer: 16 * MiB });

  const nodeDir = join(dir, 'node-only');
  mkdirSync(nodeDir);
  symlinkSync(realpathSync(NODE), join(nodeDir, 'node'));
  userPath = `${join(prefix, 'bin')}:${nodeDir}`;
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  for (const filePath of stored) {
    const { bucket, key } = parseFilePath(filePath);
    await s3Client(ep).send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The installed `mpu` with the user's PATH, HOME in the temp dir, cwd outside the repository. */
function mpu(args: string[], timeoutMs = 30_000): Promise<Result> {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const child = spawn(join(prefix, 'bin', 'mpu'), args, {
    cwd: dir,
    env: cleanEnv({ PATH: userPath, HOME: home }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Result = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mpu ${args.join(' ')} did not finish in ${timeoutMs} ms; killed it.\n${r.stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      r.code = code;
      resolve(r);
    });
  });
}

/** Every package name under node_modules folders below `root`. */
function installedPackages(root: string): string[] {
  const names: string[] = [];
  const walk = (nm: string) => {
    if (!existsSync(nm)) return;
    for (const e of readdirSync(nm)) {
      if (e.startsWith('.')) continue;
      const dirs = e.startsWith('@') ? readdirSync(join(nm, e)).map((s) => join(e, s)) : [e];
      for (const d of dirs) {
        names.push(d);
        walk(join(nm, d, 'node_modules'));
      }
    }
  };
  walk(root);
  return names;
}

describe('the packed client package, installed into an empty prefix', () => {
  test('the tarball holds the bundles, the declarations, the bin and the README only', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'bin/mpu.mjs', 'dist/cli.js', 'dist/index.js', 'dist/types/client/index.d.ts']));
    const outside = packedFiles.filter((p) => !/^(package\.json|README\.md|bin\/mpu\.mjs|dist\/.+)$/.test(p));
    expect(outside).toEqual([]);
    const sources = packedFiles.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
    expect(sources).toEqual([]);
    // No tests, no server or stack code, no build tooling.
    expect(packedFiles.filter((p) => /test|lambdas|\/lib\/|cdk|build\.mjs|tsconfig|testing\//.test(p))).toEqual([]);
    // The contract is bundled into the JavaScript; its declarations ship beside the client's.
    expect(packedFiles).toContain('dist/types/contract/api.d.ts');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'client', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).filter((d) => FORBIDDEN.test(d))).toEqual([]);
  });

  test('its dependency tree has no TypeScript, tsx, CDK or AWS SDK', () => {
    const pkgDir = join(prefix, 'lib', 'node_modules', '@mpu', 'client');
    expect(existsSync(join(pkgDir, 'dist', 'cli.js'))).toBe(true);
    const names = installedPackages(join(prefix, 'lib', 'node_modules'));
    expect(names).toEqual(expect.arrayContaining(['@mpu/client', 'commander', 'cli-progress']));
    // HTTP is Node's own (node:http/https): the undici package cost the upload ~30 MiB of RSS.
    expect(names).not.toContain('undici');
    expect(names.filter((n) => FORBIDDEN.test(n))).toEqual([]);
  });

  test(
    'its declarations type-check a consumer with skipLibCheck off, the contract types included',
    async () => {
      // Beside the installed package, so `@mpu/client` resolves as in a consumer's node_modules.
      const consumer = join(prefix, 'lib', 'consumer');
      mkdirSync(consumer, { recursive: true });
      writeFileSync(
        join(consumer, 'index.ts'),
        [
          "import { ApiClient, createPool, getStatus, upload, type UploadResult } from '@mpu/client';",
          "const r: UploadResult = await upload({ file: 'big.iso', apiUrl: 'https://api.example', concurrency: 8 });",
          'const etag: string = r.etag;',
          "const s = await getStatus('id', { apiUrl: 'https://api.example' });",
          'const parts: number | null = s.total_parts;',
          '// @ts-expect-error: a contract type, not any: total_parts is a number (null for an open stream)',
          'const wrong: string = s.total_parts;',
          "const api = new ApiClient({ baseUrl: 'https://api.example', pool: createPool({ connections: 2 }) });",
          '// @ts-expect-error: InitRequest (the contract schema type) needs filename',
          'await api.init({ file_size: 1 });',
          'export { etag, parts, wrong };',
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2023',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['index.ts'],
        }),
      );
      writeFileSync(join(consumer, 'package.json'), '{"type": "module"}\n');
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = await run(NODE, [tsc, '-p', consumer], { cwd: consumer, env: cleanEnv({}) }).catch((e: { stdout?: string; message: string }) => {
        throw new Error(`the consumer does not type-check:\n${e.stdout ?? e.message}`);
      });
      expect(r.stdout).toBe('');
    },
    60_000,
  );

  test('mpu --version and --help answer from outside the repository', async () => {
    const version = await mpu(['--version']);
    expect(version).toMatchObject({ code: 0, stderr: '' });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'client', 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await mpu(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: mpu/);
    expect(help.stdout).toMatch(/upload \[options\] <paths\.\.\.>/);
  });

  test(
    'mpu upload of 24 MiB stores the file byte-exact',
    async () => {
      const file = join(dir, 'installed-upload.bin');
      writeFileSync(file, randomBytes(24 * MiB));
      const args = ['upload', file, '--api', ep.apiUrl, '--json', '--no-progress'];
      if (ep.token) args.push('--token', ep.token);
      const r = await mpu(args, UPLOAD_TIMEOUT_MS);
      if (r.code !== 0) throw new Error(`installed mpu upload exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
      const out = lastJson(r.stdout);
      expect(out).toMatchObject({ ok: true, size: 24 * MiB, parts_total: 5 });
      stored.push(out.file_path as string);
      const { bucket, key } = parseFilePath(out.file_path as string);
      expect(await sha256Object(s3Client(ep), bucket, key)).toBe(await sha256File(file));
      // Its state went to the user's home, not to the repository.
      expect(existsSync(join(dir, 'home', '.local', 'state', 'mpu'))).toBe(true);
    },
    UPLOAD_TIMEOUT_MS + 30_000,
  );
});
