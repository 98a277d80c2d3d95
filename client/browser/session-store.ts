/**
 * Sessions remembered in IndexedDB across reloads and crashes, under the file's fingerprint
 * (fingerprint.ts). Only the session's id and plan are stored: never the file's bytes, never the
 * token.
 */
import type { FileFingerprint } from './fingerprint.js';

export interface StoredSession extends FileFingerprint {
  /** fingerprintKey(api_url, fingerprint). */
  key: string;
  api_url: string;
  session_id: string;
  chunk_size: number;
  total_parts: number;
  created_at: string;
  expires_at: string;
}

/** What the uploader needs from a store (IndexedDB here; a Map in tests). */
export interface SessionStore {
  get(key: string): Promise<StoredSession | undefined>;
  put(s: StoredSession): Promise<void>;
  delete(key: string): Promise<void>;
  list(): Promise<StoredSession[]>;
}

const DB = 'mpu-uploads';
const STORE = 'sessions';

export class IndexedDbSessionStore implements SessionStore {
  private db: Promise<IDBDatabase> | undefined;

  constructor(private readonly dbName = DB) {}

  get(key: string): Promise<StoredSession | undefined> {
    return this.run('readonly', (s) => s.get(key)) as Promise<StoredSession | undefined>;
  }

  async put(v: StoredSession): Promise<void> {
    await this.run('readwrite', (s) => s.put(v));
  }

  async delete(key: string): Promise<void> {
    await this.run('readwrite', (s) => s.delete(key));
  }

  list(): Promise<StoredSession[]> {
    return this.run('readonly', (s) => s.getAll()) as Promise<StoredSession[]>;
  }

  private open(): Promise<IDBDatabase> {
    return (this.db ??= new Promise((resolve, reject) => {
      const req = indexedDB.open(this.dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB: cannot open'));
    }));
  }

  private async run(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<unknown> {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = op(tx.objectStore(STORE));
      // Resolved when the transaction commits, so a reload right after a put still finds it.
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB: transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB: transaction aborted'));
    });
  }
}
