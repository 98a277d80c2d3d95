/**
 * Least privilege, declared per function: exactly the DynamoDB and S3 actions its code calls.
 * Derived from the handlers' calls (lambdas/service/*.ts via aws/session-store.ts and
 * aws/storage.ts); a new SDK call in a handler needs a line here, or it fails with AccessDenied.
 * test/unit/access.test.ts runs every use case path by path over recording fakes of the SDK
 * clients and checks that the actions its calls need are exactly these, no more, no less.
 */
import type { RouteId } from '../contract/routes.js';
import { ROUTES } from '../contract/routes.js';

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
  /** On the API tokens table (items addressed by token_id). */
  readonly tokensTable: readonly TableAction[];
  readonly objects: readonly ObjectAction[];
  readonly bucket: readonly BucketAction[];
}

const none = { table: [], openSessionsIndex: [], tokensTable: [], objects: [], bucket: [] } as const;

/**
 * Why each grant exists:
 * - S3 authorizes multipart calls through object actions: CreateMultipartUpload, UploadPart and
 *   CompleteMultipartUpload by s3:PutObject; presigned part URLs carry the signer's permissions,
 *   so the functions that presign (init, parts) need s3:PutObject although they never upload a
 *   byte themselves. ListParts is s3:ListMultipartUploadParts, HeadObject s3:GetObject, and
 *   HeadObject needs s3:ListBucket too: without it S3 answers a missing object 403, not 404.
 * - DynamoDB authorizes each part of a TransactWriteItems by its own action (a Put by PutItem, an
 *   Update by UpdateItem). A failed condition returns the row as it was in the same answer
 *   (ALL_OLD), so changing a session needs no GetItem.
 * - HeadObject after abort, the sweeper, a failed complete and a status that finds the upload
 *   gone: a complete whose answer was lost may have had S3 assemble the object; it is then
 *   recorded completed, never deleted, left behind an aborted or expired row, or reported gone.
 */
const ROUTE_ACCESS: Record<RouteId, Access> = {
  // CreateMultipartUpload + presign the first URLs. One transaction: UpdateItem the owner's
  // open-session count (the cap), PutItem the session and the Idempotency-Key. If it refuses or
  // fails, the fresh multipart upload is aborted at once; a replayed key reads its session (GetItem).
  init: {
    ...none,
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    objects: ['s3:PutObject', 's3:AbortMultipartUpload'],
  },
  parts: { ...none, table: ['dynamodb:GetItem'], objects: ['s3:PutObject'] },
  // ListParts; if the upload is gone, HeadObject, and an object of the planned size (a complete
  // whose answer was lost) is recorded completed with the owner's count (UpdateItem both).
  status: {
    ...none,
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    objects: ['s3:ListMultipartUploadParts', 's3:GetObject'],
    bucket: ['s3:ListBucket'],
  },
  // ListParts, then CompleteMultipartUpload under a conditional-update lease; the completed row
  // and the owner's count in one transaction (UpdateItem both).
  complete: {
    ...none,
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    objects: ['s3:ListMultipartUploadParts', 's3:PutObject', 's3:GetObject'],
    bucket: ['s3:ListBucket'],
  },
  // The row, then HeadObject (a finished object is recorded, not aborted), then the aborted row
  // and the owner's count in one transaction, then AbortMultipartUpload.
  abort: {
    ...none,
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    objects: ['s3:GetObject', 's3:AbortMultipartUpload'],
    bucket: ['s3:ListBucket'],
  },
};

/** The router (Function URL variant) runs every route's code, so it gets their union. */
function union(accesses: readonly Access[]): Access {
  const merge = <T extends string>(pick: (a: Access) => readonly T[]): T[] =>
    [...new Set(accesses.flatMap(pick))].sort();
  return {
    table: merge((a) => a.table),
    openSessionsIndex: merge((a) => a.openSessionsIndex),
    tokensTable: merge((a) => a.tokensTable),
    objects: merge((a) => a.objects),
    bucket: merge((a) => a.bucket),
  };
}

export const ACCESS: Record<FunctionId, Access> = {
  ...ROUTE_ACCESS,
  // Query the sparse index for expired open sessions; HeadObject each (a finished object is
  // recorded completed); else mark it expired (with the owner's count) and abort its upload.
  sweep: {
    ...none,
    table: ['dynamodb:UpdateItem'],
    openSessionsIndex: ['dynamodb:Query'],
    objects: ['s3:GetObject', 's3:AbortMultipartUpload'],
    bucket: ['s3:ListBucket'],
  },
  // The Lambda authorizer reads one token row by id; it can neither list nor change tokens.
  authorizer: { ...none, tokensTable: ['dynamodb:GetItem'] },
  // Behind a Function URL the router authorizes itself, with the authorizer's code and grant.
  router: union([...ROUTES.map((r) => ROUTE_ACCESS[r.id]), { ...none, tokensTable: ['dynamodb:GetItem'] }]),
};
