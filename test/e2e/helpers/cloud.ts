/**
 * The system under test as e2e tests see it: endpoints and ready-made SDK clients, for the local
 * cloud and a deployed stack alike (global-setup.ts writes the endpoints file either way).
 *
 * Local: explicit endpoints and the local credentials. Deployed: AWS endpoints and the default
 * credential chain. S3 clients never add flexible checksums (RGW 16 predates them, and presigned
 * URLs must not carry checksum parameters for a body the signer never saw).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

export type TargetKind = 'local' | 'outputs';

export interface E2ETarget {
  kind: TargetKind;
  endpointsFile: string;
  apiUrl: string;
  region: string;
  bucket: string;
  table?: string;
  /** Local only: explicit endpoints and credentials. */
  s3Endpoint?: string;
  dynamodbEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** API bearer token (local: the default owner's; deployed: MPU_E2E_TOKEN). */
  token?: string;
  /** The API tokens table (`mpu-admin token ...` and the auth tests create tokens there). */
  tokensTable?: string;
}

export function endpointsFile(): string {
  return process.env.MPU_ENDPOINTS_FILE ?? resolve('.local/endpoints.json');
}

export function e2eTarget(): E2ETarget {
  const file = endpointsFile();
  let raw: Record<string, string | undefined>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string | undefined>;
  } catch (e) {
    throw new Error(`no e2e target: cannot read ${file} (global-setup writes it): ${e instanceof Error ? e.message : String(e)}`);
  }
  const { api_url, region, bucket } = raw;
  if (!api_url || !region || !bucket) throw new Error(`${file} lacks api_url, region or bucket`);
  const kind: TargetKind = process.env.MPU_E2E_TARGET === 'outputs' ? 'outputs' : 'local';
  return {
    kind,
    endpointsFile: file,
    apiUrl: api_url,
    region,
    bucket,
    ...(raw.table ? { table: raw.table } : {}),
    ...(raw.s3_endpoint ? { s3Endpoint: raw.s3_endpoint } : {}),
    ...(raw.dynamodb_endpoint ? { dynamodbEndpoint: raw.dynamodb_endpoint } : {}),
    ...(raw.access_key_id && raw.secret_access_key
      ? { credentials: { accessKeyId: raw.access_key_id, secretAccessKey: raw.secret_access_key } }
      : {}),
    ...(raw.token ? { token: raw.token } : {}),
    ...(raw.tokens_table ? { tokensTable: raw.tokens_table } : {}),
  };
}

export function s3Client(t: E2ETarget = e2eTarget()): S3Client {
  return new S3Client({
    region: t.region,
    ...(t.s3Endpoint ? { endpoint: t.s3Endpoint, forcePathStyle: true } : {}),
    ...(t.credentials ? { credentials: t.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function dynamoClient(t: E2ETarget = e2eTarget()): DynamoDBClient {
  return new DynamoDBClient({
    region: t.region,
    ...(t.dynamodbEndpoint ? { endpoint: t.dynamodbEndpoint } : {}),
    ...(t.credentials ? { credentials: t.credentials } : {}),
  });
}

/** `fetch` against the API with the token (if any) and JSON handling. */
export async function apiFetch(
  path: string,
  init: RequestInit = {},
  t: E2ETarget = e2eTarget(),
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const headers = new Headers(init.headers);
  if (t.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${t.token}`);
  const res = await fetch(`${t.apiUrl}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}
