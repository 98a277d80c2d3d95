/**
 * The format of an API token, `mpu_<token_id>_<secret>`, as every side reads it: the API's
 * authorizer, the operator tool and any client that checks a token before sending it.
 * How a token is made, stored and checked is the server's (lambdas/core/tokens.ts).
 *
 * - `token_id`: 12 characters of lower-case base32 (60 random bits). Public: it names the token
 *   in the table, in logs and in `mpu-admin token list`/`revoke`; knowing it grants nothing.
 * - `secret`: 32 random bytes as base64url (43 characters, 256 bits).
 * The fixed lengths make the format unambiguous although base64url may contain `_`, and let a
 * malformed token be refused before any database call. The `mpu_` prefix lets secret scanners
 * (and people) recognise a leaked token.
 */
export const TOKEN_PREFIX = 'mpu';
/** Lower-case RFC 4648 base32: one character per 5 random bits. */
export const TOKEN_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
export const TOKEN_ID_LENGTH = 12;
export const SECRET_BYTES = 32;

export const TOKEN_ID_PATTERN = /^[a-z2-7]{12}$/;
/** The whole token; base64url of 32 bytes is 43 characters without padding. */
const TOKEN_PATTERN = /^mpu_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/;
/** `Authorization` header value: the scheme is case-insensitive (RFC 9110), one token, nothing else. */
const BEARER_PATTERN = /^Bearer +(\S+) *$/i;

export interface ParsedToken {
  tokenId: string;
  secret: string;
}

/** The token's parts, or undefined if it is not a well-formed mpu token. */
export function parseToken(token: string): ParsedToken | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { tokenId: m[1]!, secret: m[2]! } : undefined;
}

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER_PATTERN.exec(authorization)?.[1];
}
