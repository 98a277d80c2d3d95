/**
 * The concurrency path of an adaptive `mpu upload --json` run, if the CLI reports one: either a
 * trace in the final result (`concurrency.trace: [{ t_ms, n }]`) or event lines
 * (`{"type":"concurrency", ...}`) on stdout or stderr. Key names vary between what an engine
 * might call them (n / limit / concurrency / workers; t_ms / at_ms / elapsed_ms), so all are
 * read; nothing found = an empty trace (the report then says there is none).
 */
export interface ConcurrencyPoint {
  /** ms since the upload started. */
  t: number;
  n: number;
}

const num = (o: Record<string, unknown>, keys: string[]): number | undefined => {
  for (const k of keys) if (typeof o[k] === 'number' && Number.isFinite(o[k])) return o[k];
  return undefined;
};
const N_KEYS = ['n', 'limit', 'concurrency', 'workers', 'to'];
const T_KEYS = ['t_ms', 'at_ms', 'elapsed_ms', 'ms', 't'];

function point(o: Record<string, unknown>): ConcurrencyPoint | undefined {
  const n = num(o, N_KEYS);
  const t = num(o, T_KEYS);
  return n !== undefined && t !== undefined ? { t, n } : undefined;
}

export function traceOf(stdout: string, stderr: string): ConcurrencyPoint[] {
  const objects: Record<string, unknown>[] = [];
  for (const line of `${stdout}\n${stderr}`.split('\n')) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      objects.push(JSON.parse(s) as Record<string, unknown>);
    } catch {
      /* not JSON: a log line */
    }
  }
  const fromEvents = objects.filter((o) => o.type === 'concurrency').map(point).filter((p): p is ConcurrencyPoint => !!p);
  if (fromEvents.length) return fromEvents.sort((a, b) => a.t - b.t);
  for (const o of objects.reverse()) {
    const c = o.concurrency as { trace?: unknown } | undefined;
    const raw = c && typeof c === 'object' && Array.isArray(c.trace) ? c.trace : Array.isArray(o.concurrency_trace) ? o.concurrency_trace : undefined;
    if (raw) return (raw as Record<string, unknown>[]).map(point).filter((p): p is ConcurrencyPoint => !!p).sort((a, b) => a.t - b.t);
  }
  return [];
}
