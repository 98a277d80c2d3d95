/**
 * AWS requests and cost of one upload, from the code paths (no resume, no retries):
 *
 * client (client/upload.ts, client/url-supplier.ts)
 *   POST /upload/init          1; its answer carries unbound URLs for the first 100 parts
 *                              (API_LIMITS.initialUrlCount)
 *   POST /upload/{id}/parts    P: unbound URLs for parts 101..N in batches of 100..500, sized
 *                              to what the measured rate sends within the URL lifetime
 *                              (client/url-supplier.ts batchSize()), plus a re-sign batch for
 *                              URLs close to expiry; about 1 call per 500 parts on a fast link.
 *                              P depends on timing, so the benchmark counts it in the gateway log.
 *   PUT part (S3, presigned)   N
 *   POST /upload/{id}/complete 1
 *   GET /upload/{id}/status    only when resuming (1)
 *
 * handlers (lambdas/service/uploads.ts, lambdas/aws/session-store.ts, lambdas/aws/storage.ts)
 *   init:     S3 CreateMultipartUpload; one TransactWriteItems (the CLI sends an Idempotency-Key):
 *             the owner's open-session count (2 WRU), the session row (2 WRU + the sparse
 *             open_sessions_by_expiry GSI 1 WRU), the key (2 WRU) = 7 WRU; presigning is local
 *   parts:    GetItem consistent (1 RRU); presigning is local
 *   status:   GetItem (1 RRU); S3 ListParts x ceil(N/1000)
 *   complete: GetItem (1 RRU); S3 ListParts x ceil(N/1000); UpdateItem to completing (base 1 WRU +
 *             open_sessions_by_expiry, projection ALL, 1 WRU = 2 WRU); S3 CompleteMultipartUpload;
 *             (HeadObject only if the store answers without an ETag: not on AWS);
 *             one TransactWriteItems: the row to completed, REMOVE open_shard (2 WRU + the GSI
 *             delete 1 WRU) and the owner's count (2 WRU) = 5 WRU
 *   authorizer (token): GetItem on the tokens table (1 RRU) per invocation; API Gateway caches
 *             the answer for resultsCacheTtl, so between 1 and (2 + P) invocations per upload.
 * Items are < 1 KB (1 WRU per write, 1 RRU per consistent read of < 4 KB); a transaction writes
 * each item at twice that (its GSI updates counted at the standard rate).
 */
export const PRICES = {
  asOf: '2025 list prices, us-east-1 (AWS pricing pages); check before relying on them',
  httpApiPerMillion: 1.0,
  lambdaPerMillion: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  ddbWritePerMillion: 0.625,
  ddbReadPerMillion: 0.125,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  /** Assumed: every handler at its configured 512 MB (lib/mpu-stack.ts), 100 ms billed per call. */
  lambdaMemoryGb: 0.5,
  lambdaBilledSeconds: 0.1,
} as const;

export interface UploadCost {
  parts: number;
  partsCalls: number;
  apiCalls: number;
  lambdaInvocations: { handlers: number; authorizerMin: number; authorizerMax: number };
  dynamodb: { rru: number; wru: number; requests: number };
  s3: { putClass: number; getClass: number };
  usdPer1000Uploads: { min: number; max: number; breakdown: Record<string, number> };
}

export function uploadCost(parts: number, partsCalls: number): UploadCost {
  const P = PRICES;
  const listPages = Math.ceil(parts / 1000);
  const apiCalls = 2 + partsCalls;
  const handlers = apiCalls;
  const authMax = apiCalls;
  const authMin = 1;
  const rruBase = partsCalls + 1;
  const wru = 7 + 2 + 5;
  const ddbRequests = 1 + partsCalls + 3;
  const s3Put = 1 + parts + listPages + 1; // Create, UploadPart x N, ListParts (LIST class), Complete
  const cost = (auth: number) => {
    const lambdaCalls = handlers + auth;
    const b = {
      api_gateway: (apiCalls * P.httpApiPerMillion) / 1e6,
      lambda_requests: (lambdaCalls * P.lambdaPerMillion) / 1e6,
      lambda_duration: lambdaCalls * P.lambdaMemoryGb * P.lambdaBilledSeconds * P.lambdaPerGbSecond,
      dynamodb: (wru * P.ddbWritePerMillion + (rruBase + auth) * P.ddbReadPerMillion) / 1e6,
      s3_requests: (s3Put * P.s3PutPerThousand) / 1000,
    };
    return { total: Object.values(b).reduce((a, x) => a + x, 0) * 1000, b: Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v * 1000])) };
  };
  const lo = cost(authMin);
  const hi = cost(authMax);
  return {
    parts,
    partsCalls,
    apiCalls,
    lambdaInvocations: { handlers, authorizerMin: authMin, authorizerMax: authMax },
    dynamodb: { rru: rruBase + authMin, wru, requests: ddbRequests + authMin },
    s3: { putClass: s3Put, getClass: 0 },
    usdPer1000Uploads: { min: lo.total, max: hi.total, breakdown: hi.b },
  };
}
