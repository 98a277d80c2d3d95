/**
 * One local identity per deployed function: the credentials its code signs with, the RGW user
 * they belong to, and the role statements both enforcement points check.
 *
 * On AWS each function runs with its role's temporary credentials; locally each function gets
 * long-lived keys made at cloud start (never reused across starts).
 */
import { randomBytes } from 'node:crypto';
import { LOCAL_ACCOUNT_ID, type DeployedFunction, type PolicyStatement } from '../template.js';

export interface FunctionIdentity {
  functionId: DeployedFunction['id'];
  logicalId: string;
  /** RGW user id; also names the principal in the bucket policy. */
  rgwUid: string;
  accessKeyId: string;
  secretAccessKey: string;
  policy: readonly PolicyStatement[];
  /** How AWS names the caller in an AccessDenied message: `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. */
  principalArn: string;
}

/** A function's credentials as the runtime passes them to its worker. */
export interface FunctionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

// Crockford-like alphabet without ambiguous letters; DynamoDB Local accepts only letters and
// digits in access key ids, and AWS key ids are upper case.
const KEY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function randomKeyPart(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return out;
}

/**
 * `prefix` keeps RGW uids apart when several identity sets share one RGW (a mutation test
 * provisions fresh users next to the shared cloud's).
 */
export function makeIdentities(functions: readonly Pick<DeployedFunction, 'id' | 'logicalId' | 'policy'>[], prefix = 'fn'): FunctionIdentity[] {
  const seen = new Set<string>();
  return functions.map((f) => {
    if (seen.has(f.id)) throw new Error(`function ${f.id} appears twice`);
    seen.add(f.id);
    return {
      functionId: f.id,
      logicalId: f.logicalId,
      rgwUid: `${prefix}-${f.id}`,
      // AKIA-like: 20 characters, letters and digits only.
      accessKeyId: `MPUFN${randomKeyPart(15)}`,
      secretAccessKey: randomBytes(30).toString('base64url'),
      policy: f.policy,
      // The role's name on AWS is generated from the stack; the logical id is the stable part.
      principalArn: `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/${f.logicalId}Role/${f.logicalId}`,
    };
  });
}
