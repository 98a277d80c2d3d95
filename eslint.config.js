// Lint: typescript-eslint's recommended rules over all TypeScript sources, and the folder
// boundaries of the repository (which folder may import which), enforced below.
import tseslint from 'typescript-eslint';

/**
 * What each folder may import from the others (relative imports; test/ may import anything).
 * `folders`: whole folders; `files`: single modules (repo paths without extension), the explicit
 * and minimal list of entry points a folder may use beyond them; `packages`: npm packages it may
 * not import.
 */
const OPS_FOLDERS = ['local', 'scripts', 'bench', 'ops'];
export const BOUNDARIES = {
  // What client and server agree on: it depends on nothing of the repository and on no Node
  // built-in (a browser build uses it), only zod.
  contract: { folders: ['contract'], files: [], onlyPackages: ['zod'] },
  // The uploader: its own code and the contract; never the server, the stack or ops.
  client: {
    folders: ['client', 'contract'],
    files: [],
    packages: ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk/*', '@aws-lambda-powertools/*', 'aws-lambda'],
  },
  // The server: its own code and the contract.
  lambdas: { folders: ['lambdas', 'contract'], files: [], packages: ['aws-cdk-lib', 'constructs', 'cdk-nag'] },
  // The CDK stack (bin/ is its app): the contract, and of the server only the names it must
  // agree with: table definitions, environment variable names, metric names, authorizer settings.
  // Handler entry files are named by path (lib/constructs/handler-function.ts), not imported.
  lib: {
    folders: ['lib', 'contract'],
    files: ['lambdas/aws/table-definition', 'lambdas/env', 'lambdas/observability', 'lambdas/http/authorization'],
  },
  bin: { folders: ['bin', 'lib', 'contract'], files: [] },
  // The example pages: the browser entry of the client package only (and Uppy).
  web: { folders: ['web'], files: ['client/browser/index'], packages: ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk/*', '@aws-lambda-powertools/*', 'aws-lambda'] },
};
/**
 * Code that runs in a browser imports no Node built-in (`node:*` or a bare built-in name): the
 * browser entry, the engine, the client modules they share, and the example pages. (The esbuild
 * browser builds would fail on one too; this names the line.)
 */
export const BROWSER_FILES = [
  'client/browser/**/*.ts',
  'client/engine/*.ts',
  ...['api-core', 'errors', 'etag', 'progress', 'rate-limit', 'retry', 'scheduler', 'sizes', 'storage-refusal', 'url-supplier'].map((m) => `client/${m}.ts`),
  'web/*.ts',
];
const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'crypto', 'http', 'https', 'os', 'url', 'util', 'stream', 'stream/*', 'child_process', 'net', 'buffer', 'events', 'zlib', 'worker_threads'];
/**
 * Ops (the local cloud, demo, load, bench, the operator tool) use the product only through its
 * public entry points: the client library (client/index.ts; the `mpu` bin as a process), and of
 * the server the handler modules and the few modules the local cloud and the operator tool need
 * (the router the local gateway serves them with, the authorizer wiring, the table definitions,
 * the token store, its DynamoDB client and token records); of the stack, the bundling settings
 * (bench/bundles.ts) and the LocalStack settings (scripts/localstack-deploy.ts).
 */
const OPS = {
  folders: [...OPS_FOLDERS, 'contract'],
  files: [
    'client/index',
    'lambdas/handlers/*',
    'lambdas/http/router',
    'lambdas/http/authorization',
    'lambdas/aws/table-definition',
    'lambdas/aws/token-store',
    'lambdas/aws/clients',
    'lambdas/core/tokens',
    'lambdas/env',
    'lib/constructs/handler-function',
    'lib/constructs/api-cors',
    'lib/constructs/bucket-cors',
    'lib/settings',
    // The local cloud synthesizes the stack and runs its artifacts (local/synth*.ts, template*.ts).
    'lib/mpu-stack',
    'lib/access',
  ],
};
for (const f of OPS_FOLDERS) BOUNDARIES[f] = OPS;

const MAX_DEPTH = 6;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const fileRegex = (f) => escape(f).replace('\\*', '[^/]+');

/** One rule config per folder and directory depth: relative imports resolve against the depth. */
function boundaryConfigs() {
  const configs = [];
  for (const [folder, rule] of Object.entries(BOUNDARIES)) {
    const allowed = [...rule.folders.map((f) => `${escape(f)}/`), ...rule.files.map((f) => `${fileRegex(f)}\\.[jt]s$`)].join('|');
    const message =
      `${folder}/ may import only ${rule.folders.map((f) => `${f}/`).join(', ')}` +
      `${rule.files.length ? ` and ${rule.files.join(', ')}` : ''} (boundaries in eslint.config.js)`;
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      const up = `(?:\\.\\./){${depth}}`;
      const patterns = [{ regex: `^${up}(?!${allowed})`, message }];
      if (rule.onlyPackages) {
        patterns.push({
          regex: `^(?!\\.|(?:${rule.onlyPackages.map(escape).join('|')})(?:/|$))`,
          message: `${folder}/ may import no package but ${rule.onlyPackages.join(', ')} and no Node built-in`,
        });
      }
      if (rule.packages) {
        patterns.push({ group: rule.packages, message: `${folder}/ may not import server or stack packages (${rule.packages.join(', ')})` });
      }
      // esquery's regex literals cannot hold a slash: \x2F stands for it.
      const noSlash = (re) => re.replace(/\\?\//g, '\\x2F');
      const selector = `ImportExpression[source.value=/^${noSlash(up)}(?!${noSlash(allowed)})/]`;
      const files = `${folder}/${'*/'.repeat(depth - 1)}*.{ts,mts,js,mjs}`;
      configs.push({
        files: [files],
        rules: {
          'no-restricted-imports': ['error', { patterns }],
          // no-restricted-imports does not see import(): the same rule for dynamic imports.
          'no-restricted-syntax': ['error', { selector, message }],
        },
      });
      // Browser code of this folder and depth: the same patterns plus no Node built-in (one
      // config, since a later no-restricted-imports replaces an earlier one's options).
      const browser = BROWSER_FILES.filter((g) => g.startsWith(`${folder}/`) && g.split('/').length - 1 === depth);
      if (browser.length) {
        configs.push({
          files: browser,
          rules: {
            'no-restricted-imports': ['error', { patterns: [...patterns, { group: NODE_BUILTINS, message: 'browser code may import no Node built-in (BROWSER_FILES in eslint.config.js)' }] }],
          },
        });
      }
    }
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'web/dist/**', 'cdk.out/**', 'cdk.out.*/**', '.local/**', 'coverage/**', 'dist/**', 'client/dist/**', 'client/dist.*/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  ...boundaryConfigs(),
);
