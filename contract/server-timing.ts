/**
 * The API's own time for a request, sent in a `Server-Timing` header (W3C Server Timing):
 * `app;dur=12.3`. A client subtracts it from how long it waited for the response and keeps the
 * network's round trip (client/api-core.ts), which sets where adaptive concurrency starts.
 * What the API adds outside its handler (API Gateway, an authorizer) stays in the estimate: it
 * errs long, toward more connections. Pure.
 */

export const SERVER_TIMING_HEADER = 'server-timing';
const METRIC = 'app';

export function formatServerTiming(ms: number): string {
  return `${METRIC};dur=${Math.max(0, ms).toFixed(1)}`;
}

/** The `app` metric's duration in ms, or undefined without one (another server, a proxy's header). */
export function serverDurationMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';').map((s) => s.trim());
    if (name !== METRIC) continue;
    for (const p of params) {
      const m = /^dur=("?)(\d+(?:\.\d+)?)\1$/.exec(p);
      if (m) return Number(m[2]);
    }
  }
  return undefined;
}
