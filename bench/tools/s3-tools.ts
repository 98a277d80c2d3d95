/**
 * One upload by a non-mpu tool, run as its own process so that CPU time and peak RSS are
 * measured the same way for every tool (bench/lib/measure.ts wraps it in /usr/bin/time):
 *   node --import tsx bench/tools/s3-tools.ts '<json ToolJob>'
 * Prints {"ms": transfer time} on stdout. Tools:
 * - raw-mem:  one presigned PutObject of the whole file, bytes read into memory first (the ceiling)
 * - raw-disk: the same PUT streamed from the file
 * - floor:    the storage's multipart floor: Create, presigned part PUTs straight from memory at
 *             the same part size and concurrency (no hashing, no API), Complete
 * - floor-md5: the floor with mpu's integrity: each part hashed (Node's MD5) just before its PUT,
 *             sent with Content-MD5 for storage to verify; what integrity alone costs
 * - lib-storage: @aws-sdk/lib-storage Upload from a file stream; without chunk/concurrency in
 *             the job, the library's own defaults (partSize and queueSize left unset)
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Agent, request } from 'undici';

export interface ToolJob {
  tool: 'raw-mem' | 'raw-disk' | 'floor' | 'floor-md5' | 'lib-storage';
  file: string;
  key: string;
  /** Part size and parts in flight; required by floor, optional for lib-storage (its defaults). */
  chunk?: number;
  concurrency?: number;
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string; bucket: string };
}

export function s3Client(s: ToolJob['s3']): S3Client {
  return new S3Client({
    region: s.region,
    endpoint: s.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function put(url: string, body: Buffer | NodeJS.ReadableStream, length: number, dispatcher: Agent, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { method: 'PUT', body: body as Buffer, headers: { ...headers, 'content-length': String(length) }, dispatcher });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`PUT: ${res.statusCode} ${text.slice(0, 200)}`);
  return String(res.headers.etag);
}

async function run(job: ToolJob): Promise<number> {
  const s3 = s3Client(job.s3);
  const Bucket = job.s3.bucket;
  const Key = job.key;
  const size = statSync(job.file).size;
  const dispatcher = new Agent({ connections: (job.concurrency ?? 4) + 1, keepAliveTimeout: 30_000 });
  try {
    switch (job.tool) {
      case 'raw-mem':
      case 'raw-disk': {
        const body = job.tool === 'raw-mem' ? readFileSync(job.file) : undefined;
        const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key }), { expiresIn: 3600 });
        const t = performance.now();
        await put(url, body ?? createReadStream(job.file, { highWaterMark: 1024 * 1024 }), size, dispatcher);
        return performance.now() - t;
      }
      case 'floor':
      case 'floor-md5': {
        const { chunk, concurrency } = job;
        if (!chunk || !concurrency) throw new Error(`${job.tool}: chunk and concurrency are required`);
        const body = readFileSync(job.file);
        const t = performance.now();
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
        const total = Math.ceil(size / chunk);
        const etags: string[] = [];
        let next = 1;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (let n = next++; n <= total; n = next++) {
              const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n }), { expiresIn: 3600 });
              const part = body.subarray((n - 1) * chunk, Math.min(size, n * chunk));
              const headers: Record<string, string> = job.tool === 'floor-md5' ? { 'content-md5': createHash('md5').update(part).digest('base64') } : {};
              etags[n - 1] = await put(url, part, part.length, dispatcher, headers);
            }
          }),
        );
        await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
        return performance.now() - t;
      }
      case 'lib-storage': {
        const t = performance.now();
        const tuning = { ...(job.chunk ? { partSize: job.chunk } : {}), ...(job.concurrency ? { queueSize: job.concurrency } : {}) };
        await new Upload({ client: s3, params: { Bucket, Key, Body: createReadStream(job.file) }, ...tuning }).done();
        return performance.now() - t;
      }
    }
  } finally {
    await dispatcher.close();
    s3.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ms = await run(JSON.parse(process.argv[2]!) as ToolJob);
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}
