/**
 * The browser entry of @mpu/client (`@mpu/client/browser`): the same upload engine as the CLI,
 * with a File read by Blob.slice(), parts sent with fetch, MD5s computed by hash-wasm in a Web
 * Worker (dist/hash-worker.js, beside this bundle), and sessions remembered in IndexedDB so the
 * same file picked again after a reload resumes. No Node built-in is imported (lint and the
 * esbuild browser build enforce it).
 *
 *   const up = new BrowserUploader({ apiUrl, token });
 *   const u = up.add(file, (u) => render(u.state, u.progress));
 *   u.pause(); u.resume(); await u.cancel();
 */
import { ApiCore } from '../api-core.js';
import { fetchSend } from './fetch-transport.js';

export { BrowserUploader, UploadHandle, BROWSER_MAX_CONCURRENCY, type BrowserUploaderOptions, type UploadState } from './uploader.js';
export { uploadFile, forgetFile, type FileUploadDeps, type FileUploadOptions } from './upload-file.js';
export { BlobSource } from './blob-source.js';
export { FetchTransport, fetchSend } from './fetch-transport.js';
export { WorkerMd5, defaultWorkerUrl } from './worker-md5.js';
export { IndexedDbSessionStore, type SessionStore, type StoredSession } from './session-store.js';
export { fingerprintFile, fingerprintKey, sampleOffsets, type FileFingerprint } from './fingerprint.js';
export { mpuAwsS3Options, type MpuUppyOptions, type UppyFileLike, type UppyPart } from './uppy.js';
export { ApiCore, type ApiCoreOptions } from '../api-core.js';
export type { UploadEvent, UploadResult, EngineOptions } from '../engine/types.js';
export type { ConcurrencySetting, ConcurrencySummary } from '../engine/worker-count.js';
export type { UploadProgress } from '../progress.js';
export * from '../errors.js';
export { formatBytes, parseSize } from '../sizes.js';

/** An API client on fetch (for the Uppy adapter, or status/abort calls of a page). */
export function browserApi(o: { apiUrl: string; token?: string | (() => string | Promise<string>) }): ApiCore {
  return new ApiCore({ baseUrl: o.apiUrl, send: fetchSend, token: o.token });
}
