/**
 * The Uppy example: the real Dashboard and `@uppy/aws-s3` 5.x, with our API plugged into its
 * custom functions by mpuAwsS3Options (client/browser/uppy.ts). Stored files are listed with their
 * `s3://bucket/key`.
 */
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import { WorkerMd5, browserApi, mpuAwsS3Options } from '../client/browser/index.js';
import { loadConfig, tokenSource } from './config.js';

async function main(): Promise<void> {
  const c = await loadConfig();
  const api = browserApi({ apiUrl: c.api_url, token: tokenSource(c) });
  const uppy = new Uppy({ autoProceed: false });
  uppy.use(Dashboard, { target: '#dashboard', inline: true, height: 420, proudlyDisplayPoweredByUppy: false });
  uppy.use(AwsS3, mpuAwsS3Options({ api, md5: new WorkerMd5(), chunkSize: c.chunk_size, ...(typeof c.concurrency === 'number' ? { limit: c.concurrency } : {}) }));
  uppy.on('upload-success', (file, res) => {
    const li = document.createElement('li');
    li.className = 'done';
    li.dataset.name = file?.name ?? '';
    li.textContent = `${file?.name}: ${res.uploadURL ?? ''}`;
    document.querySelector('#done')!.append(li);
  });
  (window as unknown as { uppy: unknown }).uppy = uppy;
  document.querySelector('#status')!.textContent = `API ${c.api_url}`;
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  document.querySelector('#status')!.textContent = `cannot start: ${e instanceof Error ? e.message : String(e)}`;
});
