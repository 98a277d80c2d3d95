/**
 * The example pages of the browser entry (web/), built into static files and served on
 * 127.0.0.1 under the origin `http://localhost:<port>` (a secure context, as the pages need for
 * Web Crypto; and an origin other than the API's, so CORS is really exercised), with
 * `config.json` (the API URL and token) written by us, as a static host's deploy step would.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
};

/** What the pages read from config.json (web/config.ts PageConfig). */
export interface WebConfig {
  api_url: string;
  token?: string;
}

export interface WebServerOptions {
  config: WebConfig;
  /** Default: a free one. The origin is `http://localhost:<port>` (the API must allow it). */
  port?: number;
  /** Serve this directory instead of building web/ into a temporary one. */
  root?: string;
  log?: (line: string) => void;
}

export interface WebServer {
  /** `http://localhost:<port>`: the pages' origin. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/** Builds the pages (web/build.mjs) into `out`. */
export function buildWebPages(out: string): void {
  const r = spawnSync(process.execPath, [join(WEB_DIR, 'build.mjs'), '--out', out, '--quiet'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`web build failed (exit ${r.status ?? r.signal})`);
}

/** The pages' default port: a fixed origin keeps the stack's CORS settings, hence its synth cache, stable. */
export const WEB_DEFAULT_PORT = 8790;

/**
 * A port on 127.0.0.1 known before the server starts (the API's CORS must name the origin
 * first): `preferred` if free, else any free one.
 */
export async function freeWebPort(preferred?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen({ host: '127.0.0.1', port }, () => {
        const got = (s.address() as AddressInfo).port;
        s.close(() => resolve(got));
      });
    });
  return (preferred !== undefined ? await tryPort(preferred) : undefined) ?? (await tryPort(0))!;
}

export function webOrigin(port: number): string {
  return `http://localhost:${port}`;
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const built = o.root ? undefined : mkdtempSync(join(tmpdir(), 'mpu-web-'));
  if (built) buildWebPages(built);
  const root = o.root ?? built!;
  const config = `${JSON.stringify(o.config)}\n`;
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': TYPES['.json']!, 'cache-control': 'no-store' }).end(config);
      return;
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root.endsWith(sep) ? root : root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: o.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  o.log?.(`web: example pages at ${webOrigin(port)}/upload.html and /uppy.html`);
  return {
    url: webOrigin(port),
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        if (built) rmSync(built, { recursive: true, force: true });
      }),
  };
}
