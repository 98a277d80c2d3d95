/**
 * Uploading a file from Node: the file as a PartSource, Node's http/https as the PartTransport, and the
 * engine (client/engine/) in between. The public option, event and result types live with the
 * engine and are re-exported here.
 */
import { basename } from 'node:path';
import type { HttpPool } from './http.js';
import { uploadSource } from './engine/engine.js';
import type { EngineOptions, UploadApi, UploadResult } from './engine/types.js';
import type { PartTransport } from './engine/ports.js';
import { FileSource } from './file-source.js';
import { NodeMd5 } from './node-md5.js';

export type { UploadApi, UploadEvent, UploadResult } from './engine/types.js';

export interface UploadOptions extends EngineOptions {
  /** Path of the local file. */
  file: string;
  /** Base URL of the upload API. */
  apiUrl: string;
  /** Bearer token for the API. */
  token?: string;
  /** Reuse a connection pool (createPool; e.g. across files); otherwise one is created and closed. */
  pool?: HttpPool;
  /**
   * Remember unfinished uploads here and resume them automatically (see state.ts). Without it,
   * only `resumeSessionId` resumes.
   */
  stateDir?: string;
  /** With `stateDir`: forget a remembered session for this file and start a new one. */
  restart?: boolean;
  /** Tuning: bytes per socket write of a part (default 1 MiB; >= part size writes it whole). */
  putSliceSize?: number;
}

export interface UploadDeps {
  api: UploadApi;
  transport: PartTransport;
}

/** Uploads `opts.file` (object name: its base name unless `filename` says otherwise). */
export async function runUpload(opts: UploadOptions, deps: UploadDeps): Promise<UploadResult> {
  const source = await FileSource.open(opts.file);
  try {
    return await uploadSource(source, { ...opts, filename: opts.filename ?? basename(opts.file) }, { ...deps, md5: new NodeMd5() });
  } finally {
    await source.close();
  }
}
