/**
 * Automatic resume: looks up the state directory before an upload, records the session as soon
 * as it exists (so even a SIGKILLed run is found again), and forgets it once the object is
 * stored or the session is dead.
 */
import { resolve } from 'node:path';
import { FileMismatchError, IntegrityError, UsageError, isDeadSession } from './errors.js';
import { fingerprint, fingerprintChange, sameFingerprint, StateStore, type Fingerprint } from './state.js';
import { runUpload, type UploadDeps, type UploadOptions, type UploadResult } from './upload.js';

export async function runUploadWithState(opts: UploadOptions, deps: UploadDeps): Promise<UploadResult> {
  if (!opts.stateDir) return runUpload(opts, deps);
  const store = new StateStore(opts.stateDir);
  const path = resolve(opts.file);
  const fp = await fingerprint(path).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${opts.file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const prior = store.get(opts.apiUrl, path);
  let resumeId = opts.resumeSessionId;
  let auto = false;
  if (prior && opts.restart) {
    store.delete(opts.apiUrl, path);
    opts.onEvent?.({ type: 'restart', previous_session_id: prior.session_id });
  } else if (prior && !resumeId) {
    if (!sameFingerprint(prior, fp)) {
      const e = new FileMismatchError(
        'file_changed',
        `${opts.file} changed since its interrupted upload (session ${prior.session_id}: ${fingerprintChange(prior, fp)}); use --restart to start over`,
      );
      e.sessionId = prior.session_id;
      throw e;
    }
    resumeId = prior.session_id;
    auto = true;
    opts.onEvent?.({ type: 'auto_resume', session_id: prior.session_id, created_at: prior.created_at });
  }

  try {
    const r = await runUpload({ ...opts, resumeSessionId: resumeId, onEvent: remember(opts, store, path, fp) }, deps);
    store.delete(opts.apiUrl, path);
    return r;
  } catch (err) {
    if (isDeadSession(err)) {
      store.delete(opts.apiUrl, path);
      // Only a session we picked ourselves is replaced silently; an explicit --resume fails.
      if (auto) {
        opts.onEvent?.({ type: 'session_gone', session_id: resumeId!, reason: (err as Error).message });
        return runUploadWithState({ ...opts, resumeSessionId: undefined, restart: false }, deps);
      }
    }
    if (err instanceof IntegrityError) store.delete(opts.apiUrl, path);
    // An explicit --resume of a session that is not this file's must not be remembered for it.
    if (err instanceof FileMismatchError && !auto && opts.resumeSessionId) {
      if (prior && !opts.restart) store.put(prior);
      else store.delete(opts.apiUrl, path);
    }
    throw err;
  }
}

/** Wraps onEvent: writes the state entry the moment the session is known. */
function remember(opts: UploadOptions, store: StateStore, path: string, fp: Fingerprint): UploadOptions['onEvent'] {
  return (e) => {
    if (e.type === 'session') {
      const now = new Date().toISOString();
      const prev = store.get(opts.apiUrl, path);
      store.put({
        version: 1,
        session_id: e.session_id,
        api_url: opts.apiUrl,
        path,
        ...fp,
        chunk_size: e.chunk_size,
        total_parts: e.total_parts,
        created_at: prev?.session_id === e.session_id ? prev.created_at : now,
        updated_at: now,
        expires_at: e.expires_at,
      });
    }
    opts.onEvent?.(e);
  };
}
