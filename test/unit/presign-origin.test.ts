/**
 * Where the handlers' part URLs point, from their configuration alone (lambdas/config.ts ->
 * lambdas/aws/clients.ts -> UploadStorage.presignPart): S3's regional endpoint by default, the
 * accelerate endpoint with S3_USE_ACCELERATE_ENDPOINT, another origin with S3_PUBLIC_ENDPOINT.
 * Presigning is local: fake credentials, no network.
 */
import { loadConfig } from '../../lambdas/config.js';
import { ENV } from '../../lambdas/env.js';
import { createClients } from '../../lambdas/aws/clients.js';
import { UploadStorage } from '../../lambdas/aws/storage.js';

const BUCKET = 'mpu-uploads-abc123';
const REF = { key: 'uploads/AAAAAAAAAAAAAAAAAAAAAA/report.pdf', uploadId: 'upload-1' };
const saved: Record<string, string | undefined> = {};
const SDK_ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: undefined };

beforeAll(() => {
  for (const [k, v] of Object.entries(SDK_ENV)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A part URL signed by the handlers' clients for this handler environment. */
async function partUrl(env: Record<string, string>): Promise<URL> {
  const config = loadConfig({ [ENV.tableName]: 'sessions', [ENV.bucketName]: BUCKET, ...env });
  const clients = createClients(config);
  try {
    const part = await new UploadStorage(clients.s3, clients.presignS3, BUCKET).presignPart(REF, 7, 900);
    return new URL(part.url);
  } finally {
    clients.s3.destroy();
    clients.presignS3.destroy();
  }
}

test('default: the regional virtual-hosted endpoint', async () => {
  const url = await partUrl({});
  expect(url.host).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
  expect(url.searchParams.get('partNumber')).toBe('7');
});

test('Transfer Acceleration: <bucket>.s3-accelerate.amazonaws.com, signed for the bucket region, the same key and part', async () => {
  const url = await partUrl({ [ENV.s3UseAccelerateEndpoint]: 'true' });
  expect(url.protocol).toBe('https:');
  expect(url.host).toBe(`${BUCKET}.s3-accelerate.amazonaws.com`);
  expect(url.pathname).toBe(`/${REF.key}`);
  expect(url.searchParams.get('uploadId')).toBe(REF.uploadId);
  expect(url.searchParams.get('partNumber')).toBe('7');
  // SigV4 scope: the bucket's region and S3, as for a regional URL.
  expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
});

test('Transfer Acceleration presigns only: the handlers\' own S3 calls keep the regional endpoint', async () => {
  const config = loadConfig({ [ENV.tableName]: 'sessions', [ENV.bucketName]: BUCKET, [ENV.s3UseAccelerateEndpoint]: 'true' });
  const clients = createClients(config);
  try {
    // A request the handlers send themselves resolves to the regional endpoint.
    const own = await new UploadStorage(clients.s3, clients.s3, BUCKET).presignPart(REF, 1, 60);
    expect(new URL(own.url).host).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    const forClients = await new UploadStorage(clients.s3, clients.presignS3, BUCKET).presignPart(REF, 1, 60);
    expect(new URL(forClients.url).host).toBe(`${BUCKET}.s3-accelerate.amazonaws.com`);
  } finally {
    clients.s3.destroy();
    clients.presignS3.destroy();
  }
});

test('S3_PUBLIC_ENDPOINT: that origin, path-style (a proxy or CDN in front of storage)', async () => {
  const url = await partUrl({ [ENV.s3PublicEndpoint]: 'http://127.0.0.1:9999', [ENV.s3ForcePathStyle]: 'true' });
  expect(url.origin).toBe('http://127.0.0.1:9999');
  expect(url.pathname).toBe(`/${BUCKET}/${REF.key}`);
});

test('Transfer Acceleration with path-style or another public origin is a configuration error, named by its variable', () => {
  const base = { [ENV.tableName]: 'sessions', [ENV.bucketName]: BUCKET, [ENV.s3UseAccelerateEndpoint]: 'true' };
  expect(() => loadConfig({ ...base, [ENV.s3ForcePathStyle]: 'true' })).toThrow(/S3_USE_ACCELERATE_ENDPOINT: Transfer Acceleration cannot be combined/);
  expect(() => loadConfig({ ...base, [ENV.s3PublicEndpoint]: 'https://cdn.example.com' })).toThrow(/S3_USE_ACCELERATE_ENDPOINT/);
  expect(loadConfig({ ...base }).s3UseAccelerateEndpoint).toBe(true);
  expect(loadConfig({ [ENV.tableName]: 't', [ENV.bucketName]: 'b' }).s3UseAccelerateEndpoint).toBe(false);
});
