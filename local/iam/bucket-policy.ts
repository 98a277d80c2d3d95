/**
 * The upload bucket's one bucket policy, derived from every function's role statements: each S3
 * statement of a function becomes a statement for that function's RGW user
 * (`arn:aws:iam:::user/<uid>`). RGW then enforces it on SDK calls and presigned URLs alike (a
 * presigned URL carries its signer's identity, as on AWS). The bucket's owner stays the admin.
 *
 * One statement more, for the owner: RGW 16 has no accounts and no object-ownership setting, so
 * an object a function writes is owned by that function's RGW user, and its ACL would shut the
 * bucket owner (tests, operators) out of it. On AWS every role of the account writes objects the
 * account owns; an Allow in the bucket policy (checked before ACLs) gives the owner the same.
 *
 * Checked on RGW 16.2.15 (see local/iam/README.md): action wildcards (`s3:Get*`, `s3:G?tObject`,
 * `s3:*`), case-insensitive actions, case-sensitive resource wildcards with `*` crossing `/`,
 * Deny over Allow, HeadObject of a missing key 403 without s3:ListBucket and 404 with it, and the
 * multipart calls authorized by s3:PutObject / s3:AbortMultipartUpload /
 * s3:ListMultipartUploadParts as on AWS. RGW refuses a policy naming an action it does not know
 * (InvalidArgument); provisioning surfaces that as an error, never drops the statement.
 *
 * Pure: no I/O.
 */
import type { PolicyStatement } from './policy.js';

/** A grant RGW's bucket policy cannot express faithfully: the local cloud refuses to start. */
export class UnsupportedGrantError extends Error {
  override readonly name = 'UnsupportedGrantError';
}

export interface BucketPolicyStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: { AWS: string[] };
  Action: string[];
  Resource: string[];
}

export interface BucketPolicyDocument {
  Version: '2012-10-17';
  Statement: BucketPolicyStatement[];
}

export const rgwUserArn = (uid: string) => `arn:aws:iam:::user/${uid}`;

/** The S3 part of an action pattern, or undefined if it can only name other services. */
function s3Action(pattern: string, where: string): string | undefined {
  if (pattern === '*') return 's3:*';
  const colon = pattern.indexOf(':');
  const service = colon < 0 ? pattern : pattern.slice(0, colon);
  if (service.toLowerCase() === 's3') return pattern;
  // `s*:GetObject` or `*:GetObject` would match S3 actions too; RGW has no such syntax.
  if (/[*?]/.test(service)) throw new UnsupportedGrantError(`${where}: action ${pattern} has a wildcard in the service prefix`);
  return undefined;
}

/** The statement's resources that can address the bucket, or an error for other buckets. */
function bucketResources(resources: readonly string[], bucket: string, where: string): string[] {
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const out: string[] = [];
  for (const r of resources) {
    if (r === '*' || r === bucketArn || r.startsWith(`${bucketArn}/`)) out.push(r);
    else if (r.startsWith('arn:aws:s3:::')) {
      // Another bucket (or a wildcard over bucket names): it does not exist locally, and a
      // pattern like `arn:aws:s3:::mpu-*` would need IAM matching across buckets RGW does not do.
      throw new UnsupportedGrantError(`${where}: S3 resource ${r} is not the upload bucket ${bucket}`);
    } else if (r.startsWith('arn:') && /^arn:[^:]*:s3/.test(r)) {
      throw new UnsupportedGrantError(`${where}: S3 resource ${r} (access point or other partition) is not expressible locally`);
    }
    // Non-S3 ARNs (tables, log groups) in a mixed statement do not concern the bucket.
  }
  return out;
}

/** Sid: letters and digits only (RGW and S3 reject others). */
const sid = (functionId: string, i: number) => `${functionId.replace(/[^A-Za-z0-9]/g, '')}${i}`;

export function bucketPolicy(
  identities: readonly { functionId: string; rgwUid: string; policy: readonly PolicyStatement[] }[],
  bucket: string,
  ownerUid: string,
): BucketPolicyDocument | undefined {
  const statements: BucketPolicyStatement[] = [];
  for (const identity of identities) {
    identity.policy.forEach((s: PolicyStatement, i) => {
      const where = `${identity.functionId} statement ${i}`;
      const actions = s.actions.map((a) => s3Action(a, where)).filter((a): a is string => a !== undefined);
      if (actions.length === 0) return;
      const resources = bucketResources(s.resources, bucket, where);
      if (resources.length === 0) return;
      statements.push({ Sid: sid(identity.functionId, i), Effect: s.effect, Principal: { AWS: [rgwUserArn(identity.rgwUid)] }, Action: actions, Resource: resources });
    });
  }
  // S3 refuses a policy without statements: no S3 grant at all means no policy (the owner's ACL suffices).
  if (statements.length === 0) return undefined;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  statements.unshift({ Sid: 'BucketOwner', Effect: 'Allow', Principal: { AWS: [rgwUserArn(ownerUid)] }, Action: ['s3:*'], Resource: [bucketArn, `${bucketArn}/*`] });
  return { Version: '2012-10-17', Statement: statements };
}
