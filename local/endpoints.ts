/**
 * `.local/endpoints.json`: how tests, the CLI and humans find a running local cloud.
 * The file has exactly these keys; it holds credentials (the storage keys and an API token), so
 * it is written owner-only, and atomically so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { answersHttp } from './procs.js';

export interface LocalEndpoints {
  api_url: string;
  region: string;
  bucket: string;
  table: string;
  s3_endpoint: string;
  dynamodb_endpoint: string;
  access_key_id: string;
  secret_access_key: string;
  /** The API tokens table (`mpu-admin token create|list|revoke` find it here). */
  tokens_table: string;
  /** Bearer token of the default owner (`local-user`), created at start. */
  token?: string;
  /** The browser example pages (`npm run local` only; web-server.ts). */
  web_url?: string;
}

const REQUIRED = [
  'api_url',
  'region',
  'bucket',
  'table',
  's3_endpoint',
  'dynamodb_endpoint',
  'access_key_id',
  'secret_access_key',
  'tokens_table',
] as const;

export function defaultEndpointsFile(projectRoot: string): string {
  return join(projectRoot, '.local', 'endpoints.json');
}

export function writeEndpointsFile(path: string, e: LocalEndpoints): void {
  mkdirSync(dirname(path), { recursive: true });
  const out: Record<string, string> = {};
  for (const k of REQUIRED) out[k] = e[k];
  if (e.token !== undefined) out.token = e.token;
  if (e.web_url !== undefined) out.web_url = e.web_url;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readEndpointsFile(path: string): LocalEndpoints {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read endpoints file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const o = raw as Record<string, unknown>;
  const missing = REQUIRED.filter((k) => typeof o?.[k] !== 'string' || o[k] === '');
  if (missing.length) throw new Error(`endpoints file ${path} lacks ${missing.join(', ')}`);
  return { ...(o as unknown as LocalEndpoints) };
}

export function removeEndpointsFile(path: string): void {
  rmSync(path, { force: true });
}

/** True if the API, S3 and DynamoDB of these endpoints all answer HTTP. */
export async function endpointsAnswer(e: LocalEndpoints, timeoutMs = 1500): Promise<boolean> {
  const results = await Promise.all([e.api_url, e.s3_endpoint, e.dynamodb_endpoint].map((u) => answersHttp(u, timeoutMs)));
  return results.every(Boolean);
}
