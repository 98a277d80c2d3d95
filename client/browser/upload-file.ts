/**
 * One picked file through the engine, remembered across reloads: the session is stored in the
 * SessionStore under the file's fingerprint the moment it exists; the same file picked again
 * resumes it (status, then the stored parts' ETags checked against the file's part MD5s, then
 * only the missing parts). A remembered session that is gone, or whose stored parts are not this
 * file's bytes, is forgotten and the file starts over.
 */
import type { ApiCore } from '../api-core.js';
import { uploadSource } from '../engine/engine.js';
import type { Md5Port, PartTransport } from '../engine/ports.js';
import type { EngineOptions, UploadResult } from '../engine/types.js';
import { FileMismatchError, IntegrityError, isDeadSession } from '../errors.js';
import { BlobSource } from './blob-source.js';
import { fingerprintFile, fingerprintKey } from './fingerprint.js';
import type { SessionStore } from './session-store.js';

export interface FileUploadDeps {
  api: ApiCore;
  transport: PartTransport;
  md5: Md5Port;
  store: SessionStore;
}

export interface FileUploadOptions extends Omit<EngineOptions, 'resumeSessionId'> {
  /** The API the session belongs to (part of the remembered key). */
  apiUrl: string;
}

export async function uploadFile(file: File, o: FileUploadOptions, deps: FileUploadDeps): Promise<UploadResult> {
  const fp = await fingerprintFile(file);
  const key = fingerprintKey(o.apiUrl, fp);
  const source = new BlobSource(file, file.name);
  const run = (resumeSessionId: string | undefined) =>
    uploadSource(
      source,
      {
        ...o,
        resumeSessionId,
        filename: o.filename ?? file.name,
        contentType: o.contentType ?? (file.type || undefined),
        onEvent: (e) => {
          if (e.type === 'session') {
            const now = new Date().toISOString();
            void deps.store.put({
              key,
              ...fp,
              api_url: o.apiUrl,
              session_id: e.session_id,
              chunk_size: e.chunk_size,
              total_parts: e.total_parts,
              created_at: now,
              expires_at: e.expires_at,
            });
          }
          o.onEvent?.(e);
        },
      },
      deps,
    );

  const prior = await deps.store.get(key);
  if (prior) o.onEvent?.({ type: 'auto_resume', session_id: prior.session_id, created_at: prior.created_at });
  try {
    const r = await run(prior?.session_id);
    await deps.store.delete(key);
    return r;
  } catch (err) {
    if (prior && (isDeadSession(err) || err instanceof FileMismatchError)) {
      // Gone, or not this file's bytes (changed where the fingerprint did not look): start over.
      await deps.store.delete(key);
      o.onEvent?.({ type: 'session_gone', session_id: prior.session_id, reason: err instanceof Error ? err.message : String(err) });
      const r = await run(undefined);
      await deps.store.delete(key);
      return r;
    }
    if (err instanceof IntegrityError) await deps.store.delete(key);
    throw err;
  }
}

/** Forgets the remembered session of `file` (after a cancel). */
export async function forgetFile(file: File, apiUrl: string, store: SessionStore): Promise<void> {
  await store.delete(fingerprintKey(apiUrl, await fingerprintFile(file)));
}
