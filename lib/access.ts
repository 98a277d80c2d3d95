/**
 * Least privilege, declared per function: exactly the DynamoDB and S3 actions its code calls.
 * Derived from the handlers' calls (lambdas/service/*.ts via aws/session-store.ts and
 * aws/storage.ts); a new SDK call in a handler needs a line here, or it fails with AccessDenied.
 */
import type { RouteId } from '../lambdas/http/routes.js';
import { ROUTES } from '../lambdas/http/routes.js';

export type FunctionId = RouteId | 'sweep' | 'router' | 'authorizer';

export type TableAction = 'dynamodb:GetItem' | 'dynamodb:PutItem' | 'dynamodb:UpdateItem' | 'dynamodb:Query';
/** Object-level S3 actions; granted on `bucket/<objectKeyPrefix>*` only. */
export type ObjectAction =
  | 's3:PutObject'
  | 's3:GetObject'
  | 's3:AbortMultipartUpload'
  | 's3:ListMultipartUploadParts';
/** Bucket-level S3 actions; granted on the bucket ARN itself. */
export type BucketAction = 's3:ListBucket';

export interface Access {
  /** On the table (items addressed by session_id). */
  readonly table: readonly TableAction[];
  /** On the open_sessions_by_expiry index. */
  readonly openSessionsIndex: readonly TableAction[];
  /** On the open_sessions_by_owner index. */
  readonly openByOwnerIndex: readonly TableAction[];
  /** On the API tokens table (items addressed by token_id). */
  readonly tokensTable: readonly TableAction[];
  readonly objects: readonly ObjectAction[];
  readonly bucket: readonly BucketAction[];
}

const none = { table: [], openSessionsIndex: [], openByOwnerIndex: [], tokensTable: [], objects: [], bucket: [] } as const;

/**
 * Why each grant exists (S3 authorizes multipart calls through object actions):
 * - CreateMultipartUpload, UploadPart and CompleteMultipartUpload are authorized by s3:PutObject.
 *   Presigned part URLs carry the signer's permissions, so the functions that presign (init,
 *   parts) need s3:PutObject although they never upload a byte themselves.
 * - ListParts is s3:ListMultipartUploadParts; HeadObject is s3:GetObject.
 */
const ROUTE_ACCESS: Record<RouteId, Access> = {
  // CreateMultipartUpload + presign the first URLs; PutItem the session. If PutItem fails, the
  // fresh multipart upload is aborted at once so no orphan waits a day for the lifecycle rule.
  // Query (COUNT) the owner index first: the per-owner cap on open sessions.
  init: {
    ...none,
    table: ['dynamodb:PutItem'],
    openByOwnerIndex: ['dynamodb:Query'],
    objects: ['s3:PutObject', 's3:AbortMultipartUpload'],
  },
  parts: { ...none, table: ['dynamodb:GetItem'], objects: ['s3:PutObject'] },
  status: { ...none, table: ['dynamodb:GetItem'], objects: ['s3:ListMultipartUploadParts'] },
  // ListParts, then CompleteMultipartUpload under a conditional-update lease. After a crashed
  // complete, HeadObject tells whether the object already exists; without s3:ListBucket S3
  // answers a missing object with 403 instead of 404, which would turn "aborted" into a 500.
  complete: {
    ...none,
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    objects: ['s3:ListMultipartUploadParts', 's3:PutObject', 's3:GetObject'],
    bucket: ['s3:ListBucket'],
  },
  abort: { ...none, table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], objects: ['s3:AbortMultipartUpload'] },
};

/** The router (Function URL variant) runs every route's code, so it gets their union. */
function union(accesses: readonly Access[]): Access {
  const merge = <T extends string>(pick: (a: Access) => readonly T[]): T[] =>
    [...new Set(accesses.flatMap(pick))].sort();
  return {
    table: merge((a) => a.table),
    openSessionsIndex: merge((a) => a.openSessionsIndex),
    openByOwnerIndex: merge((a) => a.openByOwnerIndex),
    tokensTable: merge((a) => a.tokensTable),
    objects: merge((a) => a.objects),
    bucket: merge((a) => a.bucket),
  };
}

export const ACCESS: Record<FunctionId, Access> = {
  ...ROUTE_ACCESS,
  // Query the sparse index for expired open sessions, mark each expired, abort its upload.
  sweep: { ...none, table: ['dynamodb:UpdateItem'], openSessionsIndex: ['dynamodb:Query'], objects: ['s3:AbortMultipartUpload'] },
  // The Lambda authorizer reads one token row by id; it can neither list nor change tokens.
  authorizer: { ...none, tokensTable: ['dynamodb:GetItem'] },
  // Behind a Function URL the router authorizes itself, with the authorizer's code and grant.
  router: union([...ROUTES.map((r) => ROUTE_ACCESS[r.id]), { ...none, tokensTable: ['dynamodb:GetItem'] }]),
};
