/** What happened to an upload, as the use cases report it; observability turns these into metrics. */
export type UploadEvent =
  | { type: 'started'; fileSize: number; totalParts: number }
  | { type: 'urls_issued'; count: number }
  | { type: 'completed'; bytes: number; durationMs: number }
  | { type: 'aborted' }
  | { type: 'expired'; count: number }
  /** One sweeper run finished; `failed`: sessions it could not reclaim because a storage call failed. */
  | { type: 'swept'; failed: number };

export type UploadEventSink = (event: UploadEvent) => void;
