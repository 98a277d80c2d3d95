/**
 * The JWT authorizer's rules (local/jwt/rules.ts), pure: header, claims, scopes, the
 * `www-authenticate` header and how claims are rendered for the route.
 */
import fc from 'fast-check';
import {
  checkClaims,
  checkHeader,
  JwtRefusal,
  renderClaim,
  renderClaims,
  tokenFromIdentity,
  tokenScopes,
  wwwAuthenticate,
  type JwtRefusalReason,
} from '../../local/jwt/rules.js';

const RULES = { issuer: 'https://idp.example.com/pool', audience: ['app-a', 'app-b'] };
const NOW = 1_800_000_000;
const good = (over: Record<string, unknown> = {}) => ({ iss: RULES.issuer, aud: 'app-a', sub: 'alice', iat: NOW - 10, exp: NOW + 600, ...over });

function reasonOf(f: () => unknown): JwtRefusalReason | 'accepted' {
  try {
    f();
    return 'accepted';
  } catch (e) {
    if (e instanceof JwtRefusal) return e.reason;
    throw e;
  }
}

describe('identity source value', () => {
  test('the token alone, or after exactly "Bearer "', () => {
    expect(tokenFromIdentity('Bearer a.b.c')).toBe('a.b.c');
    expect(tokenFromIdentity('a.b.c')).toBe('a.b.c');
    // Other spellings are not stripped, so such a token then fails to decode (refused).
    expect(tokenFromIdentity('bearer a.b.c')).toBe('bearer a.b.c');
    expect(tokenFromIdentity('Bearer  a.b.c')).toBe(' a.b.c');
  });
});

describe('header', () => {
  test('RS256/384/512 with a kid pass', () => {
    for (const alg of ['RS256', 'RS384', 'RS512']) expect(checkHeader({ alg, kid: 'k1' })).toEqual({ alg, kid: 'k1' });
  });

  test('none, HMAC, EC, RSA-PSS and missing algorithms are refused', () => {
    for (const alg of ['none', 'HS256', 'HS512', 'ES256', 'PS256', 'EdDSA', '', undefined, 256]) {
      expect(reasonOf(() => checkHeader({ alg, kid: 'k1' }))).toBe('algorithm');
    }
  });

  test('a token without kid is refused (API Gateway looks the key up by kid)', () => {
    expect(reasonOf(() => checkHeader({ alg: 'RS256' }))).toBe('kid');
    expect(reasonOf(() => checkHeader({ alg: 'RS256', kid: '' }))).toBe('kid');
    expect(reasonOf(() => checkHeader({ alg: 'RS256', kid: 7 }))).toBe('kid');
  });
});

describe('claims', () => {
  const check = (claims: Record<string, unknown>, scopes?: string[]) => reasonOf(() => checkClaims(claims, RULES, NOW, scopes));

  test('a valid token passes; the route sees scopes null when it requires none', () => {
    expect(checkClaims(good(), RULES, NOW)).toBeNull();
    expect(checkClaims(good({ nbf: NOW }), RULES, NOW)).toBeNull();
  });

  test('iss must match exactly', () => {
    for (const iss of [undefined, `${RULES.issuer}/`, RULES.issuer.toUpperCase(), 'https://idp.example.com', 7]) {
      expect(check(good({ iss }))).toBe('issuer');
    }
  });

  test('aud: one of the configured audiences, string or array', () => {
    expect(check(good({ aud: 'app-b' }))).toBe('accepted');
    expect(check(good({ aud: ['other', 'app-b'] }))).toBe('accepted');
    expect(check(good({ aud: 'other' }))).toBe('audience');
    expect(check(good({ aud: [] }))).toBe('audience');
    expect(check(good({ aud: ['other', 3] }))).toBe('audience');
  });

  test('client_id counts only when there is no aud', () => {
    const { aud: _aud, ...noAud } = good();
    expect(check({ ...noAud, client_id: 'app-a' })).toBe('accepted');
    expect(check({ ...noAud, client_id: 'other' })).toBe('audience');
    expect(check(noAud)).toBe('audience');
    // aud present and wrong: a matching client_id does not save it.
    expect(check(good({ aud: 'other', client_id: 'app-a' }))).toBe('audience');
  });

  test('exp is required and must be after now; nbf and iat, when present, not after now', () => {
    const { exp: _exp, ...noExp } = good();
    expect(check(noExp)).toBe('expired');
    expect(check(good({ exp: NOW }))).toBe('expired');
    expect(check(good({ exp: NOW + 1 }))).toBe('accepted');
    expect(check(good({ nbf: NOW + 1 }))).toBe('not_yet_valid');
    expect(check(good({ iat: NOW + 1 }))).toBe('issued_in_future');
    expect(check(good({ exp: '1900000000' }))).toBe('malformed');
    expect(check(good({ nbf: null }))).toBe('malformed');
  });

  test('any exp at or before now is refused, any later one accepted', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (offset) => {
        expect(check(good({ exp: NOW + offset, iat: NOW - 1e9 - 1 }))).toBe(offset > 0 ? 'accepted' : 'expired');
      }),
    );
  });

  test('route scopes: at least one in scope (space-separated) or scp; the route then sees the token scopes', () => {
    expect(checkClaims(good({ scope: 'read upload' }), RULES, NOW, ['upload'])).toEqual(['read', 'upload']);
    expect(checkClaims(good({ scp: ['upload'] }), RULES, NOW, ['upload', 'admin'])).toEqual(['upload']);
    expect(check(good({ scope: 'read' }), ['upload'])).toBe('scope');
    expect(check(good(), ['upload'])).toBe('scope');
    expect(checkClaims(good({ scope: 'read' }), RULES, NOW, [])).toBeNull();
  });

  test('token scopes: scope wins over scp', () => {
    expect(tokenScopes({ scope: 'a  b', scp: ['c'] })).toEqual(['a', 'b']);
    expect(tokenScopes({ scp: 'c d' })).toEqual(['c', 'd']);
    expect(tokenScopes({ scp: ['c', 1] })).toEqual(['c']);
    expect(tokenScopes({})).toEqual([]);
  });
});

describe('refusals', () => {
  test('401 with invalid_token, 403 with insufficient_scope; the documented audience wording', () => {
    const aud = new JwtRefusal('audience', 'the token does not have a valid audience');
    expect(aud.status).toBe(401);
    expect(wwwAuthenticate(aud)).toBe('Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"');
    const scope = new JwtRefusal('scope', 'missing');
    expect(scope.status).toBe(403);
    expect(wwwAuthenticate(scope, ['a', 'b'])).toBe('Bearer scope="a b" error="insufficient_scope" error_description="missing"');
  });

  test('the header stays one well-formed challenge whatever the description', () => {
    fc.assert(
      fc.property(fc.string(), (d) => {
        expect(wwwAuthenticate(new JwtRefusal('malformed', d))).toMatch(/^Bearer scope="[^"]*" error="invalid_token" error_description="[^"\\]*"$/);
      }),
    );
  });
});

describe('claims as the route sees them', () => {
  test('as observed on AWS: strings as is, numbers as digits, string arrays as [a b]', () => {
    expect(
      renderClaims({ sub: 'u-1', exp: 1612061676, aud: ['a', 'b'], email_verified: true, nested: { b: 1, a: 'x' }, gone: null }),
    ).toEqual({ sub: 'u-1', exp: '1612061676', aud: '[a b]', email_verified: 'true', nested: 'map[a:x b:1]', gone: '<nil>' });
  });

  test('every value becomes a string; strings and integers keep their text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(typeof renderClaim(v)).toBe('string');
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => expect(renderClaim(s)).toBe(s)));
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => expect(renderClaim(n)).toBe(String(n))));
  });
});
