/** Where the e2e suite finds the system under test: the endpoints file global-setup wrote. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

export interface Endpoints {
  api_url: string;
  region: string;
  bucket: string;
  table?: string;
  s3_endpoint?: string;
  dynamodb_endpoint?: string;
  access_key_id?: string;
  secret_access_key?: string;
  token?: string;
}

export function endpointsFile(): string {
  return process.env.MPU_ENDPOINTS_FILE ?? resolve('.local/endpoints.json');
}

export function loadEndpoints(): Endpoints {
  return JSON.parse(readFileSync(endpointsFile(), 'utf8')) as Endpoints;
}

/** An S3 client for checking stored objects directly (path-style for local S3 implementations). */
export function s3ClientFor(ep: Endpoints): S3Client {
  return new S3Client({
    region: ep.region,
    ...(ep.s3_endpoint ? { endpoint: ep.s3_endpoint, forcePathStyle: true } : {}),
    ...(ep.access_key_id && ep.secret_access_key
      ? { credentials: { accessKeyId: ep.access_key_id, secretAccessKey: ep.secret_access_key } }
      : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
