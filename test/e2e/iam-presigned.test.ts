/**
 * What RGW enforces for the functions' identities beyond the use cases: a presigned URL carries
 * its signer's permissions (as on AWS), so a URL for an operation the signer may not perform is
 * refused with 403 AccessDenied; forged keys fail as on AWS; a function's SDK call outside its
 * grants is refused; the bucket's owner (the admin, tests and operators) keeps full access; and
 * the S3 calls are attributed to each function from RGW's log (the least-privilege report).
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createWorld, enforce, localS3, type Enforced, type IamWorld } from './iam/world.js';

jest.setTimeout(120_000);

let world: IamWorld;
let e: Enforced;

beforeAll(async () => {
  world = await createWorld();
  e = await enforce(world, world.functions);
}, 300_000);

afterAll(async () => {
  await e?.stop();
  await world?.destroy();
});

const prefix = () => world.functions.find((f) => f.id === 'parts')!.environment.OBJECT_KEY_PREFIX ?? 'uploads/';

/** A multipart upload the admin opens; the URL under test signs a part of it. */
async function adminUpload(key: string): Promise<string> {
  return (await world.adminS3.send(new CreateMultipartUploadCommand({ Bucket: world.bucket, Key: key }))).UploadId!;
}

async function presignedPut(signer: 'status' | 'parts' | 'init', key: string, uploadId: string): Promise<{ status: number; code: string | undefined }> {
  const url = await getSignedUrl(e.kit(signer).s3, new UploadPartCommand({ Bucket: world.bucket, Key: key, UploadId: uploadId, PartNumber: 1 }), { expiresIn: 300 });
  const res = await fetch(url, { method: 'PUT', body: Buffer.alloc(512, 1) });
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] };
}

test('a part URL signed by status (no s3:PutObject) is refused by RGW: 403 AccessDenied', async () => {
  const key = `${prefix()}${randomBytes(6).toString('hex')}/a.bin`;
  const uploadId = await adminUpload(key);
  expect(await presignedPut('status', key, uploadId)).toEqual({ status: 403, code: 'AccessDenied' });
  // The same URL signed by parts, whose role grants it, is accepted: the refusal is the signer's policy.
  expect((await presignedPut('parts', key, uploadId)).status).toBe(200);
});

test('a part URL signed by parts for a key outside its prefix is refused: 403 AccessDenied', async () => {
  const key = `elsewhere/${randomBytes(6).toString('hex')}/a.bin`;
  const uploadId = await adminUpload(key);
  expect(await presignedPut('parts', key, uploadId)).toEqual({ status: 403, code: 'AccessDenied' });
});

test('a function’s SDK call outside its grants is refused; the bucket owner is not restricted, also on objects functions wrote', async () => {
  const key = `${prefix()}${randomBytes(6).toString('hex')}/whole.bin`;
  await expect(e.kit('status').s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: key, Body: 'x' }))).rejects.toMatchObject({ name: 'AccessDenied' });
  await expect(e.kit('abort').s3.send(new ListObjectsV2Command({ Bucket: world.bucket }))).resolves.toBeDefined(); // s3:ListBucket is abort's
  await expect(e.kit('init').s3.send(new ListObjectsV2Command({ Bucket: world.bucket }))).rejects.toMatchObject({ name: 'AccessDenied' });
  await world.adminS3.send(new PutObjectCommand({ Bucket: world.bucket, Key: key, Body: 'x' }));
  await expect(world.adminS3.send(new GetObjectCommand({ Bucket: world.bucket, Key: key }))).resolves.toBeDefined();
  // An object a function wrote is its RGW user's; the owner still reads it, as the account does on AWS.
  const written = `${prefix()}${randomBytes(6).toString('hex')}/by-complete.bin`;
  await e.kit('complete').s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: written, Body: 'y' }));
  await expect(world.adminS3.send(new GetObjectCommand({ Bucket: world.bucket, Key: written }))).resolves.toMatchObject({ ContentLength: 1 });
});

test('a forged key fails as on AWS: unknown key id, or a known key id with the wrong secret', async () => {
  const key = `${prefix()}${randomBytes(6).toString('hex')}/a.bin`;
  const unknown = localS3(world.target.s3Endpoint, world.target.region, { accessKeyId: 'MPUFNNOSUCHKEY000000', secretAccessKey: 'x' });
  const stolenId = localS3(world.target.s3Endpoint, world.target.region, { accessKeyId: e.iam.credentials.parts!.accessKeyId, secretAccessKey: 'not-the-secret' });
  await expect(unknown.send(new CreateMultipartUploadCommand({ Bucket: world.bucket, Key: key }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
  await expect(stolenId.send(new CreateMultipartUploadCommand({ Bucket: world.bucket, Key: key }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
  unknown.destroy();
  stolenId.destroy();
});
