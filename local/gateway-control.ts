/**
 * The local Lambda service's invoke API, on its own loopback port (never the API's): lets tests
 * and operators invoke a function directly, as EventBridge invokes the sweeper on its schedule.
 *
 * `POST /invoke/<function id>` with the event as JSON body -> 200 `{"result": ...}`, or 502
 * `{"errorType", "errorMessage"}` when the function failed (Lambda's Invoke answers 200 with
 * X-Amz-Function-Error; a distinct status is simpler for callers here), 404 for an unknown function.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionId } from '../lib/access.js';
import { FunctionError, type LambdaRuntime } from './runtime.js';

export interface ControlServer {
  url: string;
  close(): Promise<void>;
}

export interface InvokeAnswer {
  result?: unknown;
  errorType?: string;
  errorMessage?: string;
}

function reply(res: import('node:http').ServerResponse, status: number, body: InvokeAnswer | { message: string }): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startControlServer(o: { port: number; runtime: LambdaRuntime; log: (line: string) => void }): Promise<ControlServer> {
  const server: Server = createServer((req, res) => {
    const m = /^\/invoke\/([a-z]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return reply(res, 404, { message: 'Not Found' });
    const id = m[1] as FunctionId;
    if (!o.runtime.has(id)) return reply(res, 404, { errorType: 'ResourceNotFoundException', errorMessage: `no function ${id}` });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let event: unknown;
      try {
        event = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        return reply(res, 400, { errorType: 'InvalidRequestContentException', errorMessage: 'the event is not JSON' });
      }
      const t0 = Date.now();
      o.runtime.invoke(id, event).then(
        (result) => {
          o.log(`control: invoked ${id} in ${Date.now() - t0} ms`);
          reply(res, 200, { result });
        },
        (e: unknown) => {
          const err = e instanceof FunctionError ? e : new FunctionError(id, 'Error', e instanceof Error ? e.message : String(e));
          o.log(`control: ${id} failed: ${err.message}${err.remoteStack ? `\n${err.remoteStack}` : ''}`);
          reply(res, 502, { errorType: err.errorType, errorMessage: err.message });
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: this endpoint runs any function with any event, unauthenticated.
    server.listen({ host: '127.0.0.1', port: o.port }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
