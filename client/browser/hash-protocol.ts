/** Messages between the page (worker-md5.ts) and the hash worker (hash-worker.ts). */
export type HashRequest = { id: number; blob: Blob; offset: number; length: number } | { id: number; bytes: Uint8Array };
export type HashResponse = { id: number; digest: Uint8Array } | { id: number; error: string };
