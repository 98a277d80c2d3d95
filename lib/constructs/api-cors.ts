/**
 * CORS of the API, one definition for both fronts (HTTP API and Function URL). Only for the
 * origins an operator lists (settings corsAllowedOrigins); with none, neither front has any CORS
 * configuration and browsers may not read answers. The bucket's rule is its own (PUT, ETag):
 * lib/constructs/upload-bucket.ts.
 */
import { ROUTES } from '../../contract/routes.js';

export interface ApiCors {
  readonly allowOrigins: string[];
  /** The route table's methods, nothing else. */
  readonly allowMethods: ('GET' | 'POST' | 'DELETE')[];
  /** Lower case: Function URLs compare them case-sensitively against the preflight's list. */
  readonly allowHeaders: string[];
  readonly exposeHeaders: string[];
  readonly maxAgeSeconds: number;
}

/** Undefined without origins: no CORS at all. */
export function apiCors(origins: readonly string[]): ApiCors | undefined {
  if (origins.length === 0) return undefined;
  return {
    allowOrigins: [...origins],
    allowMethods: [...new Set(ROUTES.map((r) => r.method))],
    // The token, JSON bodies, and init's Idempotency-Key (a retried init returns the same session).
    allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
    // A 429 tells the page when to come back.
    exposeHeaders: ['retry-after'],
    maxAgeSeconds: 3600,
  };
}
