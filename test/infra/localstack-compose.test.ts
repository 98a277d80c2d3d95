/**
 * docker-compose.yml and .env.example: checked as text (no Docker here). What matters is that
 * the image is pinned, the token comes from the git-ignored .env, Lambda gets the Docker socket,
 * and S3 checks signatures of presigned URLs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/handler-function.js';

const compose = readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
const envExample = readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8');

test('the LocalStack image is pinned to a calendar-versioned tag', () => {
  const image = /^\s*image:\s*(\S+)\s*$/m.exec(compose)?.[1];
  expect(image).toMatch(/^localstack\/localstack:20\d\d\.(0[1-9]|1[0-2])\.\d+$/);
});

test('the auth token comes from the environment (.env), required, never written in the file', () => {
  expect(compose).toMatch(/LOCALSTACK_AUTH_TOKEN:\s*\$\{LOCALSTACK_AUTH_TOKEN:\?[^}]+\}/);
  expect(envExample).toMatch(/^LOCALSTACK_AUTH_TOKEN=$/m);
  // .env is ignored by git, .env.example is not.
  const ignored = (f: string) => {
    try {
      execFileSync('git', ['check-ignore', '-q', f], { cwd: PROJECT_ROOT });
      return true;
    } catch {
      return false;
    }
  };
  expect(ignored('.env')).toBe(true);
  expect(ignored('.env.example')).toBe(false);
});

test('Lambda containers: Docker socket mounted, arm64 functions run on any host', () => {
  expect(compose).toMatch(/-\s*"\/var\/run\/docker\.sock:\/var\/run\/docker\.sock"/);
  expect(compose).toMatch(/LAMBDA_IGNORE_ARCHITECTURE:\s*"1"/);
});

test('S3 verifies presigned URL signatures; the edge port is published on loopback only', () => {
  expect(compose).toMatch(/S3_SKIP_SIGNATURE_VALIDATION:\s*"0"/);
  expect(compose).toMatch(/-\s*"127\.0\.0\.1:4566:4566"/);
  expect(compose).not.toMatch(/-\s*"4566:4566"/);
});
