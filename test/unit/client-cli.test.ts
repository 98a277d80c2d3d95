import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveApi } from '../../client/config.js';
import { EXIT } from '../../client/errors.js';
import { StateStore } from '../../client/state.js';
import { runCliCaptured } from './helpers/run-cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mpu-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  return runCliCaptured(args, { HOME: dir, ...env }, dir);
}

describe('argument parsing', () => {
  test.each([
    [['upload', 'f', '--chunk-size', '5XB']],
    [['upload', 'f', '--concurrency', '0']],
    [['upload', 'f', '--concurrency', 'many']],
    [['upload']],
    [['frobnicate']],
    [['upload', 'a', 'b', '--resume', 'x']],
  ])('%j is a usage error (exit 2)', async (args) => {
    const r = await cli(args as string[], { MPU_API_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr.length).toBeGreaterThan(0);
  });

  test('help lists the exit codes and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    // Every code the CLI can exit with is listed, in help and in client/README.md.
    const readme = readFileSync(new URL('../../client/README.md', import.meta.url), 'utf8');
    for (const code of Object.values(EXIT)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
      expect(readme).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
    }
  });

  test('the uploader has no operator commands: `mpu token ...` is an unknown command (tokens are mpu-admin\'s)', async () => {
    for (const sub of [['create', '--owner', 'alice'], ['list'], ['revoke', 'aaaaaaaaaaaa']]) {
      const r = await cli(['token', ...sub], { MPU_API_URL: 'http://127.0.0.1:9' });
      expect(r.code).toBe(EXIT.usage);
      expect(r.stderr).toMatch(/unknown command 'token'/);
    }
    const help = await cli(['--help']);
    expect(help.stdout).not.toMatch(/^\s+token\b/m);
  });

  test('no API configured is a clear usage error', async () => {
    const r = await cli(['upload', join(dir, 'missing.bin')]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/no API URL: pass --api URL, set MPU_API_URL/);
  });

  test('a missing file fails with one line, and a JSON object with --json', async () => {
    const r = await cli(['upload', join(dir, 'missing.bin'), '--json', '--no-state'], { MPU_API_URL: 'http://127.0.0.1:9' });
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: 'usage', exit_code: 2 });
  });
});

test('list shows remembered uploads', async () => {
  const stateDir = join(dir, 'state');
  expect((await cli(['list', '--state-dir', stateDir])).stdout).toBe('no interrupted uploads\n');
  new StateStore(stateDir).put({
    version: 1, session_id: 'S'.repeat(22), api_url: 'http://api', path: '/data/f.bin', size: 10 * 1048576, mtime_ms: 1, sample_sha256: 'x',
    chunk_size: 5 * 1048576, total_parts: 2, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z',
  });
  const human = await cli(['list'], { MPU_STATE_DIR: stateDir });
  expect(human.stdout).toContain(`${'S'.repeat(22)}  /data/f.bin  10.0 MiB in 2 parts`);
  const json = await cli(['list', '--json', '--state-dir', stateDir]);
  expect(JSON.parse(json.stdout)).toMatchObject({ session_id: 'S'.repeat(22), path: '/data/f.bin' });
});

describe('finding the API', () => {
  test('flag, then MPU_API_URL, then the endpoints file, then the config file', () => {
    const project = join(dir, 'proj');
    mkdirSync(join(project, '.local'), { recursive: true });
    mkdirSync(join(project, 'sub'), { recursive: true });
    writeFileSync(join(project, '.local', 'endpoints.json'), JSON.stringify({ api_url: 'http://local:1', token: 'from-endpoints' }));
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ api_url: 'http://config:1', token: 'from-config' }));
    const env = { MPU_CONFIG: config };

    expect(resolveApi({ api: 'http://flag:1' }, { ...env, MPU_API_URL: 'http://env:1' }, project).apiUrl).toBe('http://flag:1');
    expect(resolveApi({}, { ...env, MPU_API_URL: 'http://env:1' }, project).apiUrl).toBe('http://env:1');
    // Found from a subdirectory too, like git finds its repository.
    expect(resolveApi({}, env, join(project, 'sub'))).toMatchObject({ apiUrl: 'http://local:1', token: 'from-endpoints' });
    expect(resolveApi({}, env, dir)).toMatchObject({ apiUrl: 'http://config:1', token: 'from-config' });
    const named = join(dir, 'named.json');
    writeFileSync(named, JSON.stringify({ api_url: 'http://named:1' }));
    expect(resolveApi({}, { ...env, MPU_ENDPOINTS_FILE: named }, project).apiUrl).toBe('http://named:1');
  });

  test('token: flag, then MPU_TOKEN, then files', () => {
    const env = { MPU_API_URL: 'http://env:1', MPU_CONFIG: join(dir, 'none.json') };
    expect(resolveApi({ token: 't1' }, { ...env, MPU_TOKEN: 't2' }, dir).token).toBe('t1');
    expect(resolveApi({}, { ...env, MPU_TOKEN: 't2' }, dir).token).toBe('t2');
    expect(resolveApi({}, env, dir).token).toBeUndefined();
  });

  test('an invalid URL names its source', () => {
    expect(() => resolveApi({}, { MPU_API_URL: 'ftp://x', MPU_CONFIG: join(dir, 'none.json') }, dir)).toThrow(/invalid API URL "ftp:\/\/x" \(from MPU_API_URL\)/);
  });
});
