/** What the use cases need from the outside world; handlers build it once per container. */
import { loadConfig, type Config } from '../config.js';
import { createClients } from '../aws/clients.js';
import { SessionStore } from '../aws/session-store.js';
import { UploadStorage } from '../aws/storage.js';
import { newSessionId } from '../core/ids.js';
import { recordUploadEvent } from './event-metrics.js';
import type { UploadEventSink } from './events.js';

export interface Deps {
  config: Config;
  store: SessionStore;
  storage: UploadStorage;
  now: () => Date;
  newId: () => string;
  /** Where use cases report what happened (metrics). */
  events: UploadEventSink;
}

let cached: Deps | undefined;

/** Built lazily (first request), so a bad configuration surfaces as a logged 500, not a crash loop. */
export function defaultDeps(): Deps {
  if (!cached) {
    const config = loadConfig();
    const clients = createClients(config);
    cached = {
      config,
      store: new SessionStore(clients.dynamo, config.tableName),
      storage: new UploadStorage(clients.s3, clients.presignS3, config.bucketName),
      now: () => new Date(),
      newId: newSessionId,
      events: recordUploadEvent,
    };
  }
  return cached;
}
