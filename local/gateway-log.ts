/**
 * The local gateway's log (`gateway.log` in the cloud's run directory): the one writer and the one
 * reader of its format, so the load test and the benchmark read what the gateway writes.
 *
 *   2026-11-30T12:00:00.000Z POST /upload/init -> 201 (12 ms) 0b1c2d3e4f5a6b7c
 *
 * One such line per request (method, URL as sent, status, ms from request in to response out,
 * API Gateway request id). Other lines (start-up, handler failures with their stacks) are free text.
 */
import { ROUTES, matchPath, type RouteDef } from '../contract/routes.js';

/** File name of the log in the local cloud's run directory. */
export const GATEWAY_LOG_FILE = 'gateway.log';

export interface GatewayRequest {
  method: string;
  /** As sent: path and query string. */
  url: string;
  status: number;
  ms: number;
  requestId: string;
}

export interface GatewayLogEntry extends GatewayRequest {
  /** ISO timestamp of the line. */
  at: string;
  /** The route of the table it matched (undefined: no route, e.g. a 404). */
  route?: RouteDef;
}

/** The request line, without its timestamp (the gateway's `log` hook adds that). */
export function formatRequest(r: GatewayRequest): string {
  return `${r.method} ${r.url} -> ${r.status} (${r.ms} ms) ${r.requestId}`;
}

/** A line as written to the file: timestamp, text, newline. */
export function stampLine(text: string, at: Date = new Date()): string {
  return `${at.toISOString()} ${text}\n`;
}

/** The start-up line; `announces` finds it again to tell which log belongs to which API. */
export function listeningLine(url: string, detail: string): string {
  return `gateway listening on ${url} (${detail})`;
}

/** Whether a log's text is that of the gateway serving `url`. */
export function announces(logText: string, url: string): boolean {
  return logText.includes(`gateway listening on ${url} (`);
}

const REQUEST_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ([A-Z]+) (\S+) -> (\d{3}) \((\d+) ms\) (\S+)$/;

/** One line of the log: a request entry, or undefined for any other line. */
export function parseLine(line: string): GatewayLogEntry | undefined {
  const m = REQUEST_LINE.exec(line);
  if (!m) return undefined;
  const [, at, method, url, status, ms, requestId] = m as unknown as [string, string, string, string, string, string, string];
  const path = url.split('?')[0]!;
  const route = ROUTES.find((r) => r.method === method && matches(r.path, path));
  return { at, method, url, status: Number(status), ms: Number(ms), requestId, ...(route ? { route } : {}) };
}

/** A logged path may be anything a client sent, also bad percent-encoding: that matches nothing. */
function matches(routePath: string, path: string): boolean {
  try {
    return matchPath(routePath, path) !== undefined;
  } catch {
    return false;
  }
}

/** Every request entry of a log's text, in order. */
export function parseLog(text: string): GatewayLogEntry[] {
  const out: GatewayLogEntry[] = [];
  for (const line of text.split('\n')) {
    const e = parseLine(line);
    if (e) out.push(e);
  }
  return out;
}
