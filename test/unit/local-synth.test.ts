/**
 * The synth cache key (local/synth.ts): what changes the synthesized output changes the key, and
 * nothing else does; a cached entry is used without synthesizing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTH_MANIFEST, synthesize, synthInputsHash } from '../../local/synth.js';

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'mpu-synth-key-'));
  for (const d of ['lambdas', 'contract', 'lib', 'bin']) mkdirSync(join(root, d));
  writeFileSync(join(root, 'lambdas', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'cdk.json'), '{}');
  writeFileSync(join(root, 'package-lock.json'), '{}');
  return root;
}

test('the key follows the inputs and the settings, not their key order', () => {
  const root = tree();
  try {
    const base = synthInputsHash({ stackName: 'S', settings: { urlExpirySeconds: 2, corsAllowedOrigins: ['http://a'] } }, root);
    expect(synthInputsHash({ stackName: 'S', settings: { corsAllowedOrigins: ['http://a'], urlExpirySeconds: 2 } }, root)).toBe(base);
    expect(synthInputsHash({ stackName: 'S', settings: { urlExpirySeconds: 3, corsAllowedOrigins: ['http://a'] } }, root)).not.toBe(base);
    expect(synthInputsHash({ stackName: 'T', settings: { urlExpirySeconds: 2, corsAllowedOrigins: ['http://a'] } }, root)).not.toBe(base);
    writeFileSync(join(root, 'lambdas', 'a.ts'), 'export const a = 2;\n');
    const edited = synthInputsHash({ stackName: 'S', settings: { urlExpirySeconds: 2, corsAllowedOrigins: ['http://a'] } }, root);
    expect(edited).not.toBe(base);
    // A file outside the inputs (docs, tests) does not invalidate the cache.
    writeFileSync(join(root, 'README.md'), 'x');
    expect(synthInputsHash({ stackName: 'S', settings: { urlExpirySeconds: 2, corsAllowedOrigins: ['http://a'] } }, root)).toBe(edited);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an entry in the cache is used as it is, without synthesizing', async () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'mpu-synth-cache-'));
  try {
    const req = { stackName: 'MpuCacheTest', settings: { urlExpirySeconds: 7 } };
    const dir = join(cacheRoot, synthInputsHash(req));
    mkdirSync(dir);
    writeFileSync(join(dir, SYNTH_MANIFEST), '{}');
    const lines: string[] = [];
    const r = await synthesize(req, { cacheRoot, log: (l) => lines.push(l) });
    expect(r).toMatchObject({ dir, cached: true, templateFile: join(dir, 'MpuCacheTest.template.json') });
    expect(lines.join('\n')).toMatch(/synth: cache hit/);
  } finally {
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
