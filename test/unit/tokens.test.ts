/** API tokens: the format and parsing (contract/tokens.ts); making, hashing, constant-time check, decisions (lambdas/core/tokens.ts). */
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  OWNER_PATTERN,
  checkToken,
  hashSecret,
  isValidOwner,
  newToken,
  newTokenId,
  secretMatches,
  tokenRecord,
  tokenState,
  type TokenRecord,
} from '../../lambdas/core/tokens.js';
import { TOKEN_ID_PATTERN, bearerToken, parseToken } from '../../contract/tokens.js';

const NOW = new Date('2026-11-26T12:00:00.000Z');

describe('format', () => {
  test('mpu_<12 base32>_<43 base64url>: 60 + 256 random bits', () => {
    const t = newToken();
    expect(t.token).toMatch(/^mpu_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    expect(t.token).toBe(`mpu_${t.tokenId}_${t.secret}`);
    expect(Buffer.from(t.secret, 'base64url')).toHaveLength(32);
    expect(TOKEN_ID_PATTERN.test(t.tokenId)).toBe(true);
  });

  test('the stored hash is the SHA-256 of the secret, not of the token, and never contains either', () => {
    const t = newToken();
    expect(t.secretHash).toBe(createHash('sha256').update(t.secret).digest('hex'));
    expect(t.secretHash).toBe(hashSecret(t.secret));
    expect(t.secretHash).not.toContain(t.secret);
    const record = tokenRecord(t, 'alice', NOW);
    expect(JSON.stringify(record)).not.toContain(t.secret);
    expect(record).toEqual({ token_id: t.tokenId, owner: 'alice', secret_hash: t.secretHash, created_at: NOW.toISOString() });
  });

  test('ids and secrets come from the random source given (the CSPRNG by default)', () => {
    const fixed = (n: number) => Buffer.alloc(n, 0xff);
    expect(newTokenId(fixed)).toBe('777777777777');
    expect(newToken(fixed).token).toBe(`mpu_777777777777_${Buffer.alloc(32, 0xff).toString('base64url')}`);
    const ids = new Set(Array.from({ length: 2000 }, () => newTokenId()));
    expect(ids.size).toBe(2000);
  });

  test('the id alphabet is used evenly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const c of newTokenId()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(32);
    // 48000 characters over 32 symbols: 1500 each on average.
    for (const n of counts.values()) expect(n).toBeGreaterThan(1200);
  });

  test('parseToken splits a well-formed token, also when the secret contains "_"', () => {
    const secret = `${'_'.repeat(10)}${'a'.repeat(33)}`;
    expect(parseToken(`mpu_abcdefgh2345_${secret}`)).toEqual({ tokenId: 'abcdefgh2345', secret });
    const t = newToken();
    expect(parseToken(t.token)).toEqual({ tokenId: t.tokenId, secret: t.secret });
  });

  test.each([
    ['', 'empty'],
    ['mpu_', 'prefix only'],
    ['MPU_abcdefgh2345_' + 'a'.repeat(43), 'prefix case'],
    ['xyz_abcdefgh2345_' + 'a'.repeat(43), 'other prefix'],
    ['mpu_abcdefgh234_' + 'a'.repeat(43), 'short id'],
    ['mpu_abcdefgh23456_' + 'a'.repeat(43), 'long id'],
    ['mpu_ABCDEFGH2345_' + 'a'.repeat(43), 'upper-case id'],
    ['mpu_abcdefgh2189_' + 'a'.repeat(43), 'id outside base32 (1, 8, 9)'],
    ['mpu_abcdefgh2345_' + 'a'.repeat(42), 'short secret'],
    ['mpu_abcdefgh2345_' + 'a'.repeat(44), 'long secret'],
    ['mpu_abcdefgh2345_' + 'a'.repeat(42) + '=', 'padding'],
    ['mpu_abcdefgh2345_' + 'a'.repeat(42) + '+', 'base64 (not url) character'],
    [' mpu_abcdefgh2345_' + 'a'.repeat(43), 'leading space'],
    ['mpu_abcdefgh2345_' + 'a'.repeat(43) + '\n', 'trailing newline'],
  ])('parseToken refuses %j (%s)', (token) => {
    expect(parseToken(token)).toBeUndefined();
  });

  test('no string that is not exactly the format parses (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const p = parseToken(s);
        if (p) expect(s).toBe(`mpu_${p.tokenId}_${p.secret}`);
      }),
    );
  });

  test('bearerToken: the scheme in any case, one token, surrounding spaces tolerated', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('BEARER   abc  ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('abc')).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('secretMatches (constant time)', () => {
  test('the right secret matches its hash; anything else does not', () => {
    const t = newToken();
    expect(secretMatches(t.secret, t.secretHash)).toBe(true);
    expect(secretMatches(newToken().secret, t.secretHash)).toBe(false);
    // One character off.
    const flipped = (t.secret[0] === 'A' ? 'B' : 'A') + t.secret.slice(1);
    expect(secretMatches(flipped, t.secretHash)).toBe(false);
  });

  test('a missing or malformed stored hash never matches (and never throws)', () => {
    const t = newToken();
    for (const stored of [undefined, '', 'abc', t.secretHash.toUpperCase(), `${t.secretHash}00`, t.secret, 'g'.repeat(64)]) {
      expect(secretMatches(t.secret, stored)).toBe(false);
    }
    // The all-zero dummy compared against for unknown ids matches nothing either.
    expect(secretMatches('', '0'.repeat(64))).toBe(false);
  });

  test('uses crypto.timingSafeEqual, not ===', async () => {
    const { readFileSync } = await import('node:fs');
    const src = readFileSync(new URL('../../lambdas/core/tokens.ts', import.meta.url), 'utf8');
    expect(src).toMatch(/timingSafeEqual\(presented, stored\)/);
  });
});

describe('checkToken', () => {
  const t = newToken();
  const parsed = parseToken(t.token)!;
  const row = (over: Partial<TokenRecord> = {}): TokenRecord => ({ ...tokenRecord(t, 'alice', new Date('2026-01-01T00:00:00Z')), ...over });

  test('a matching, active row authorizes its owner', () => {
    expect(checkToken(parsed, row(), NOW)).toEqual({ ok: true, owner: 'alice', tokenId: t.tokenId });
    expect(checkToken(parsed, row({ expires_at: '2026-11-26T12:00:01.000Z' }), NOW).ok).toBe(true);
  });

  test.each([
    ['no row', undefined, 'unknown_token'],
    ['wrong secret', { secret_hash: hashSecret('x') }, 'wrong_secret'],
    ['revoked', { revoked_at: '2026-06-01T00:00:00Z' }, 'revoked'],
    ['expired (at the instant)', { expires_at: NOW.toISOString() }, 'expired'],
    ['expired', { expires_at: '2026-06-01T00:00:00Z' }, 'expired'],
    ['unparsable expiry', { expires_at: 'soon' }, 'expired'],
    ['row under another id', { token_id: 'zzzzzzzzzzzz' }, 'bad_record'],
    ['owner missing', { owner: undefined as unknown as string }, 'bad_record'],
    ['owner malformed', { owner: 'a b' }, 'bad_record'],
  ] as const)('%s -> refused (%s)', (_, over, reason) => {
    const r = checkToken(parsed, over === undefined ? undefined : row(over as Partial<TokenRecord>), NOW);
    expect(r).toEqual({ ok: false, reason, tokenId: t.tokenId });
  });

  test('the state of a row is only revealed to the holder of its secret', () => {
    const other = parseToken(`mpu_${t.tokenId}_${randomBytes(32).toString('base64url')}`)!;
    expect(checkToken(other, row({ revoked_at: '2026-06-01T00:00:00Z' }), NOW)).toMatchObject({ reason: 'wrong_secret' });
    expect(checkToken(other, row({ expires_at: '2026-06-01T00:00:00Z' }), NOW)).toMatchObject({ reason: 'wrong_secret' });
  });

  test('tokenState for listings', () => {
    expect(tokenState({}, NOW)).toBe('active');
    expect(tokenState({ revoked_at: 'x', expires_at: '2099-01-01T00:00:00Z' }, NOW)).toBe('revoked');
    expect(tokenState({ expires_at: '2026-01-01T00:00:00Z' }, NOW)).toBe('expired');
  });
});

describe('owners and records', () => {
  test.each(['alice', 'ci.repo-x', 'team_a+uploads', 'bob@example.com', 'A1', 'x'.repeat(128)])('%s is a valid owner', (o) => {
    expect(isValidOwner(o)).toBe(true);
  });

  test.each(['', ' alice', 'a b', 'a/b', '-alice', '.alice', 'x'.repeat(129), 'ä', 'a\nb', 'anonymous;'])('%j is refused', (o) => {
    expect(isValidOwner(o)).toBe(false);
    expect(() => tokenRecord(newToken(), o, NOW)).toThrow(/invalid owner/);
  });

  test('OWNER_PATTERN is anchored', () => {
    expect(OWNER_PATTERN.source.startsWith('^')).toBe(true);
    expect(OWNER_PATTERN.source.endsWith('$')).toBe(true);
  });

  test('an expiring token gets expires_at and a TTL 90 days later; a description is kept', () => {
    const t = newToken();
    const expiresAt = new Date(NOW.getTime() + 3600_000);
    const r = tokenRecord(t, 'ci', NOW, { expiresAt, description: 'CI of repo x' });
    expect(r.expires_at).toBe(expiresAt.toISOString());
    expect(r.ttl).toBe(Math.floor(expiresAt.getTime() / 1000) + 90 * 24 * 3600);
    expect(r.description).toBe('CI of repo x');
    expect(tokenRecord(t, 'ci', NOW).ttl).toBeUndefined();
  });
});
