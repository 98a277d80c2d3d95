/**
 * The pages' settings: `config.json` beside the page (written by whoever hosts it: the local
 * cloud's web server, or a deploy step), then the query string for tuning (`?chunk=8MiB&concurrency=auto&rate=20MiB`).
 * The token may be an API token or a JWT; with `token_url`, the page fetches a fresh one before
 * API calls (a login endpoint of the hosting app) instead of keeping a static one.
 */
import { parseSize } from '../client/browser/index.js';

export interface PageConfig {
  api_url: string;
  token?: string;
  /** GET returns `{ "token": "..." }` (e.g. a JWT from the app's own login). */
  token_url?: string;
  chunk_size?: number;
  /** 'auto' (default) or a fixed number of parts in flight. */
  concurrency?: number | 'auto';
  rate_limit?: number;
}

export async function loadConfig(): Promise<PageConfig> {
  const res = await fetch(new URL('config.json', location.href), { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  const c = (await res.json()) as PageConfig;
  if (typeof c.api_url !== 'string' || !c.api_url) throw new Error('config.json has no api_url');
  const q = new URLSearchParams(location.search);
  const size = (k: string) => (q.get(k) ? parseSize(q.get(k)!) : undefined);
  return {
    ...c,
    ...(q.get('chunk') ? { chunk_size: size('chunk') } : {}),
    ...(q.get('concurrency') ? { concurrency: q.get('concurrency') === 'auto' ? ('auto' as const) : Number(q.get('concurrency')) } : {}),
    ...(q.get('rate') ? { rate_limit: size('rate') } : {}),
  };
}

/** The bearer token: static, or fetched from `token_url` (cached until the page reloads it). */
export function tokenSource(c: PageConfig): string | (() => Promise<string>) | undefined {
  if (!c.token_url) return c.token;
  let cached: Promise<string> | undefined;
  return () =>
    (cached ??= fetch(c.token_url!, { credentials: 'include' })
      .then((r) => r.json() as Promise<{ token: string }>)
      .then((j) => j.token));
}
