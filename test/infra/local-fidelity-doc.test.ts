/**
 * docs/local-fidelity.md stays true to the repository: every file it names (the code that
 * enforces a row, the test that proves it) exists, every table row has its columns, the JWT row
 * states the algorithms and key cache time the local authorizer really uses, and the page is
 * linked from the README and local/README.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';
import { RSA_ALGORITHMS } from '../../local/jwt/rules.js';
import { DEFAULT_JWKS_CACHE_SECONDS } from '../../local/jwt/jwks.js';

const read = (p: string) => readFileSync(path.join(PROJECT_ROOT, p), 'utf8');
const doc = read('docs/local-fidelity.md');

describe('docs/local-fidelity.md', () => {
  test('every repository path it names exists (globs: at least one match)', () => {
    const named = [...doc.matchAll(/`((?:docs|local|lib|lambdas|test|client|contract|scripts)\/[\w./*-]+|docker-compose\.yml)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    const missing = named.filter((p) => {
      if (!p.includes('*')) return !existsSync(path.join(PROJECT_ROOT, p));
      const dir = path.dirname(p);
      const re = new RegExp(`^${path.basename(p).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
      return !existsSync(path.join(PROJECT_ROOT, dir)) || !readdirSync(path.join(PROJECT_ROOT, dir)).some((f) => re.test(f));
    });
    expect(missing).toEqual([]);
  });

  test('every table row has as many cells as its header', () => {
    let width = 0;
    for (const line of doc.split('\n')) {
      if (!line.startsWith('|')) {
        width = 0;
        continue;
      }
      const cells = line.replace(/`[^`]*`/g, 'code').split('|').length - 2;
      if (width === 0) width = cells;
      else expect({ line, cells }).toEqual({ line, cells: width });
    }
  });

  test('the JWT row says what local/jwt does: RS256/384/512 only, keys kept 2 h', () => {
    expect([...RSA_ALGORITHMS]).toEqual(['RS256', 'RS384', 'RS512']);
    expect(doc).toContain('RS256/384/512 only');
    expect(DEFAULT_JWKS_CACHE_SECONDS).toBe(2 * 3600);
    expect(doc).toContain('keys cached up to 2 h');
  });

  test('it is linked from README.md and local/README.md', () => {
    expect(read('README.md')).toContain('](docs/local-fidelity.md)');
    expect(read('local/README.md')).toContain('](../docs/local-fidelity.md)');
  });
});

