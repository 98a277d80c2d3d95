/**
 * API tokens on the server: how one is made, how it is stored (a hash of the secret, never the
 * token) and how a presented token is checked. Pure: no I/O; the table is aws/token-store.ts.
 * The token's format (prefix, id, secret, parsing) is the contract's (contract/tokens.ts).
 *
 * Only the secret's SHA-256 is stored. A slow password hash (bcrypt, scrypt) buys nothing for
 * 256 random bits: nobody can guess them, so the fast hash keeps authorization at one GetItem
 * plus microseconds of CPU.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SECRET_BYTES, TOKEN_ID_ALPHABET, TOKEN_ID_LENGTH, TOKEN_PREFIX, type ParsedToken } from '../../contract/tokens.js';

/**
 * Who a token acts for; becomes the `owner` of the sessions it creates. Letters, digits and
 * `. _ @ + -` (user names, e-mail addresses, service names), at most 128 characters.
 */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export function isValidOwner(owner: string): boolean {
  return OWNER_PATTERN.test(owner);
}

/** One row of the tokens table. */
export interface TokenRecord {
  token_id: string;
  owner: string;
  /** SHA-256 of the secret, lower-case hex. */
  secret_hash: string;
  created_at: string;
  /** Set once the token is revoked; it never authorizes again. */
  revoked_at?: string;
  /** Optional end of validity. */
  expires_at?: string;
  /** Free text for operators ("CI of repo x"). */
  description?: string;
  /** Epoch seconds when DynamoDB may delete the row (revoked or expired tokens only). */
  ttl?: number;
}

export interface NewToken extends ParsedToken {
  /** The full token: shown to the operator once, never stored. */
  token: string;
  secretHash: string;
}

export function newTokenId(random: (n: number) => Buffer = randomBytes): string {
  // 12 characters x 5 bits: one byte per character, masked to 5 bits (256 % 32 == 0: unbiased).
  const bytes = random(TOKEN_ID_LENGTH);
  let id = '';
  for (let i = 0; i < TOKEN_ID_LENGTH; i++) id += TOKEN_ID_ALPHABET[bytes[i]! & 31];
  return id;
}

export function newToken(random: (n: number) => Buffer = randomBytes): NewToken {
  const tokenId = newTokenId(random);
  const secret = random(SECRET_BYTES).toString('base64url');
  return { token: `${TOKEN_PREFIX}_${tokenId}_${secret}`, tokenId, secret, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

const HASH_PATTERN = /^[0-9a-f]{64}$/;
/** Compared against when no row exists, so an unknown id costs the same work as a wrong secret. */
const DUMMY_HASH = Buffer.alloc(32);

/** Constant-time comparison of the presented secret's hash with the stored one. */
export function secretMatches(secret: string, storedHash: string | undefined): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const valid = typeof storedHash === 'string' && HASH_PATTERN.test(storedHash);
  const stored = valid ? Buffer.from(storedHash, 'hex') : DUMMY_HASH;
  // Both are 32 bytes, so timingSafeEqual never throws; `valid` is checked after the comparison.
  return timingSafeEqual(presented, stored) && valid;
}

/** Why a token was refused; logged (with the token id, never the token) for operators. */
export type DenyReason = 'missing' | 'malformed' | 'unknown_token' | 'wrong_secret' | 'revoked' | 'expired' | 'bad_record';

export type TokenCheck = { ok: true; owner: string; tokenId: string } | { ok: false; reason: DenyReason; tokenId?: string };

/**
 * The decision for a parsed token and the row stored under its id (undefined: no row).
 * The secret is compared first, in constant time, so the state of the row (revoked, expired)
 * is only revealed to someone who holds the secret.
 */
export function checkToken(parsed: ParsedToken, record: TokenRecord | undefined, now: Date): TokenCheck {
  const matches = secretMatches(parsed.secret, record?.secret_hash);
  const tokenId = parsed.tokenId;
  if (!record) return { ok: false, reason: 'unknown_token', tokenId };
  if (!matches) return { ok: false, reason: 'wrong_secret', tokenId };
  if (record.token_id !== parsed.tokenId || typeof record.owner !== 'string' || !isValidOwner(record.owner)) {
    return { ok: false, reason: 'bad_record', tokenId };
  }
  if (record.revoked_at !== undefined) return { ok: false, reason: 'revoked', tokenId };
  if (record.expires_at !== undefined && !(Date.parse(record.expires_at) > now.getTime())) {
    return { ok: false, reason: 'expired', tokenId };
  }
  return { ok: true, owner: record.owner, tokenId };
}

/** State of a token as operators see it. */
export function tokenState(record: Pick<TokenRecord, 'revoked_at' | 'expires_at'>, now: Date): 'active' | 'revoked' | 'expired' {
  if (record.revoked_at !== undefined) return 'revoked';
  if (record.expires_at !== undefined && !(Date.parse(record.expires_at) > now.getTime())) return 'expired';
  return 'active';
}

/** How long DynamoDB keeps a revoked or expired token row (for audits) before its TTL deletes it. */
export const TOKEN_ROW_RETENTION_SECONDS = 90 * 24 * 3600;

/** The row for a new token (the secret itself is not part of it). */
export function tokenRecord(
  t: Pick<NewToken, 'tokenId' | 'secretHash'>,
  owner: string,
  now: Date,
  opts: { expiresAt?: Date; description?: string } = {},
): TokenRecord {
  if (!isValidOwner(owner)) throw new Error(`invalid owner '${owner}': letters, digits and . _ @ + - only, at most 128 characters`);
  return {
    token_id: t.tokenId,
    owner,
    secret_hash: t.secretHash,
    created_at: now.toISOString(),
    ...(opts.expiresAt
      ? {
          expires_at: opts.expiresAt.toISOString(),
          ttl: Math.floor(opts.expiresAt.getTime() / 1000) + TOKEN_ROW_RETENTION_SECONDS,
        }
      : {}),
    ...(opts.description ? { description: opts.description } : {}),
  };
}
