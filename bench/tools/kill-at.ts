/**
 * An mpu upload that SIGKILLs its own process once a fraction of the file is sent (the resume
 * benchmark): node --import tsx bench/tools/kill-at.ts '<json>'
 * Before dying it prints one JSON line: session id, bytes done, ms since start.
 */
import { writeSync } from 'node:fs';
import { upload } from '../../client/index.js';

const o = JSON.parse(process.argv[2]!) as { file: string; apiUrl: string; token?: string; stateDir: string; fraction: number; chunkSize?: number; concurrency?: number };
const t = performance.now();
let sessionId = '';
await upload({
  file: o.file,
  apiUrl: o.apiUrl,
  ...(o.token ? { token: o.token } : {}),
  stateDir: o.stateDir,
  ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}),
  ...(o.concurrency ? { concurrency: o.concurrency } : {}),
  onEvent: (e) => {
    if (e.type === 'session') sessionId = e.session_id;
  },
  onProgress: (p) => {
    if (p.bytesDone >= o.fraction * p.bytesTotal) {
      writeSync(1, `${JSON.stringify({ session_id: sessionId, bytes_done: p.bytesDone, parts_done: p.partsDone, ms: performance.now() - t })}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  },
});
writeSync(1, `${JSON.stringify({ finished: true, ms: performance.now() - t })}\n`);
