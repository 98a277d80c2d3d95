/**
 * The folder boundaries of eslint.config.js, proven by linting snippets as if they were files of
 * each folder (ESLint's Node API, the repository's own config): a crossing import is an error,
 * an allowed one is not.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The boundary errors (no-restricted-imports / no-restricted-syntax) of `code` as file `filePath`. */
async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath });
  return result!.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
    .map((m) => m.message);
}

describe('crossing a boundary is a lint error', () => {
  test.each([
    ['client -> lambdas', 'client/x.ts', "import { ApiError } from '../lambdas/core/errors.js';", /client\/ may import only client\/, contract\//],
    ['client (nested) -> lambdas', 'client/cli/x.ts', "import type { TokenStore } from '../../lambdas/aws/token-store.js';", /client\/ may import only/],
    ['client -> lib', 'client/x.ts', "import { OUTPUT } from '../lib/settings.js';", /client\/ may import only/],
    ['client -> local', 'client/x.ts', "import { startLocalCloud } from '../local/cloud.js';", /client\/ may import only/],
    ['client -> ops', 'client/x.ts', "import { runAdmin } from '../ops/admin/program.js';", /client\/ may import only/],
    ['client -> lambdas, dynamic import()', 'client/x.ts', "await import('../lambdas/env.js');", /client\/ may import only/],
    ['client -> a server package', 'client/x.ts', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", /may not import server or stack packages/],
    ['contract -> lambdas', 'contract/x.ts', "import { ENV } from '../lambdas/env.js';", /contract\/ may import only contract\//],
    ['contract -> client', 'contract/x.ts', "import { upload } from '../client/index.js';", /contract\/ may import only/],
    ['contract -> node: built-in', 'contract/x.ts', "import { randomBytes } from 'node:crypto';", /no Node built-in/],
    ['contract -> bare built-in', 'contract/x.ts', "import { readFileSync } from 'fs';", /no Node built-in/],
    ['browser entry -> node:crypto', 'client/browser/x.ts', "import { createHash } from 'node:crypto';", /browser code may import no Node built-in/],
    ['browser entry -> bare fs', 'client/browser/x.ts', "import { readFileSync } from 'fs';", /browser code may import no Node built-in/],
    ['engine -> node:fs', 'client/engine/x.ts', "import { open } from 'node:fs/promises';", /browser code may import no Node built-in/],
    ['shared client module -> node:http', 'client/retry.ts', "import http from 'node:http';", /browser code may import no Node built-in/],
    ['example page -> a client module behind the browser entry', 'web/x.ts', "import { ApiCore } from '../client/api-core.js';", /web\/ may import only web\/ and client\/browser\/index/],
    ['example page -> node:fs', 'web/x.ts', "import { readFileSync } from 'node:fs';", /browser code may import no Node built-in/],
    ['contract -> another package', 'contract/x.ts', "import { Command } from 'commander';", /no package but zod/],
    ['lambdas -> client', 'lambdas/service/x.ts', "import { md5 } from '../../client/hashing.js';", /lambdas\/ may import only lambdas\/, contract\//],
    ['lambdas -> lib', 'lambdas/x.ts', "import { ACCESS } from '../lib/access.js';", /lambdas\/ may import only/],
    ['lib -> a lambdas module not on its list', 'lib/constructs/x.ts', "import { SessionStore } from '../../lambdas/aws/session-store.js';", /lib\/ may import only/],
    ['lib -> client', 'lib/x.ts', "import { upload } from '../client/index.js';", /lib\/ may import only/],
    ['ops -> a client module behind the library', 'scripts/x.ts', "import { md5 } from '../client/hashing.js';", /scripts\/ may import only/],
    ['ops -> a lambdas module not on its list', 'local/x.ts', "import { uploads } from '../lambdas/service/uploads.js';", /local\/ may import only/],
    ['ops tool -> client internals', 'ops/admin/x.ts', "import { findEndpointsFile } from '../../client/config.js';", /ops\/ may import only/],
    ['leaving the repository', 'client/x.ts', "import { x } from '../../elsewhere.js';", /client\/ may import only/],
  ])('%s', async (_what, file, code, message) => {
    const errors = await boundaryErrors(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });
});

describe('allowed imports pass', () => {
  test.each([
    ['client -> client and contract', 'client/cli/x.ts', "import { EXIT } from '../errors.js';\nimport { ROUTES } from '../../contract/routes.js';\nimport { Command } from 'commander';"],
    ['contract -> contract and zod', 'contract/x.ts', "import * as z from 'zod';\nimport { DEFAULTS } from './limits.js';"],
    ['lambdas -> lambdas and contract', 'lambdas/http/x.ts', "import { ApiError } from '../core/errors.js';\nimport { API_LIMITS } from '../../contract/limits.js';\nimport { S3Client } from '@aws-sdk/client-s3';"],
    ['lib -> its named lambdas modules', 'lib/constructs/x.ts', "import { TABLE } from '../../lambdas/aws/table-definition.js';\nimport { ENV } from '../../lambdas/env.js';\nimport { ROUTES } from '../../contract/routes.js';"],
    ['ops -> the client library, handler modules, the token store', 'local/x.ts', "import { upload } from '../client/index.js';\nimport { handler } from '../lambdas/handlers/init.js';\nimport { TokenStore } from '../lambdas/aws/token-store.js';\nimport { startLocalCloud } from './cloud.js';"],
    ['ops -> other ops folders', 'scripts/x.ts', "import { startLocalCloud } from '../local/cloud.js';\nimport { runAdmin } from '../ops/admin/program.js';"],
    ['test -> anything', 'test/unit/x.test.ts', "import { ApiError } from '../../lambdas/core/errors.js';\nimport { md5 } from '../../client/hashing.js';"],
  ])('%s', async (_what, file, code) => {
    expect(await boundaryErrors(file, code)).toEqual([]);
  });
});

test('every source file of the repository keeps within its boundaries', async () => {
  const results = await eslint.lintFiles(['contract', 'client', 'lambdas', 'lib', 'bin', 'local', 'scripts', 'bench', 'ops', 'web']);
  const crossings = results.flatMap((r) =>
    r.messages
      .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax')
      .map((m) => `${r.filePath}:${m.line} ${m.message}`),
  );
  expect(crossings).toEqual([]);
  // Lints the whole repository: seconds on an idle machine, much more on a loaded one.
}, 60_000);
