/** local/iam/policy.ts: IAM's matching and evaluation rules, by example and by property. */
import fc from 'fast-check';
import {
  actionMatches,
  evaluate,
  isAllowed,
  parseStatement,
  resourceMatches,
  UnsupportedPolicyError,
  type PolicyStatement,
} from '../../local/iam/policy.js';

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/sessions';
const allow = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Allow', actions, resources });
const deny = (actions: string[], resources: string[]): PolicyStatement => ({ effect: 'Deny', actions, resources });

describe('action matching', () => {
  test.each([
    ['dynamodb:GetItem', 'dynamodb:GetItem', true],
    ['DynamoDB:getitem', 'dynamodb:GetItem', true],
    ['dynamodb:Get*', 'dynamodb:GetItem', true],
    ['dynamodb:*', 'dynamodb:Query', true],
    ['*', 's3:PutObject', true],
    ['dynamodb:?etItem', 'dynamodb:GetItem', true],
    ['dynamodb:?etItem', 'dynamodb:eItem', false],
    ['dynamodb:GetItem', 'dynamodb:GetItems', false],
    ['dynamodb:GetItem', 'dynamodb:Get', false],
    ['s3:PutObject', 'dynamodb:PutObject', false],
    ['s3:Put.bject', 's3:PutObject', false],
  ])('%s vs %s: %s', (pattern, action, expected) => {
    expect(actionMatches(pattern, action)).toBe(expected);
  });
});

describe('resource matching', () => {
  test.each([
    [TABLE, TABLE, true],
    [TABLE, `${TABLE}/index/open`, false],
    [`${TABLE}/index/*`, `${TABLE}/index/open`, true],
    ['arn:aws:s3:::b/uploads/*', 'arn:aws:s3:::b/uploads/a/b/c', true],
    ['arn:aws:s3:::b/uploads/*', 'arn:aws:s3:::b/Uploads/a', false],
    ['arn:aws:s3:::b/uploads/*', 'arn:aws:s3:::b/other/uploads/a', false],
    ['arn:aws:s3:::b/uploads/?', 'arn:aws:s3:::b/uploads/x', true],
    ['arn:aws:s3:::b/uploads/?', 'arn:aws:s3:::b/uploads/xy', false],
    ['arn:aws:s3:::b', 'arn:aws:s3:::b/x', false],
    ['arn:aws:s3:::b.c', 'arn:aws:s3:::bxc', false],
    ['*', 'arn:aws:s3:::anything/at/all', true],
  ])('%s vs %s: %s', (pattern, resource, expected) => {
    expect(resourceMatches(pattern, resource)).toBe(expected);
  });
});

describe('evaluation', () => {
  test('default deny', () => {
    expect(evaluate([], 'dynamodb:GetItem', TABLE)).toBe('implicit-deny');
    expect(evaluate([allow(['dynamodb:PutItem'], [TABLE])], 'dynamodb:GetItem', TABLE)).toBe('implicit-deny');
    expect(evaluate([allow(['dynamodb:GetItem'], [`${TABLE}-other`])], 'dynamodb:GetItem', TABLE)).toBe('implicit-deny');
  });

  test('an Allow on action and resource allows', () => {
    expect(evaluate([allow(['dynamodb:GetItem', 'dynamodb:PutItem'], [TABLE])], 'dynamodb:PutItem', TABLE)).toBe('allow');
  });

  test('an explicit Deny wins over any Allow, in any order', () => {
    const a = allow(['dynamodb:*'], ['*']);
    const d = deny(['dynamodb:PutItem'], [TABLE]);
    expect(evaluate([a, d], 'dynamodb:PutItem', TABLE)).toBe('explicit-deny');
    expect(evaluate([d, a], 'dynamodb:PutItem', TABLE)).toBe('explicit-deny');
    expect(evaluate([d, a], 'dynamodb:GetItem', TABLE)).toBe('allow');
  });

  test('policy variables are refused, not matched literally', () => {
    expect(() => isAllowed([allow(['s3:GetObject'], ['arn:aws:s3:::b/${aws:username}/*'])], 's3:GetObject', 'arn:aws:s3:::b/x/y')).toThrow(
      UnsupportedPolicyError,
    );
  });
});

describe('parseStatement', () => {
  test('a resolved CloudFormation statement', () => {
    expect(parseStatement({ Sid: 'T', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE })).toEqual(allow(['dynamodb:GetItem'], [TABLE]));
    expect(parseStatement({ Effect: 'Deny', Action: ['a:b', 'c:d'], Resource: ['x', 'y'] })).toEqual(deny(['a:b', 'c:d'], ['x', 'y']));
  });

  test.each(['NotAction', 'NotResource', 'Condition', 'Principal', 'NotPrincipal'])('%s is refused loudly', (element) => {
    expect(() => parseStatement({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', [element]: { x: 1 } })).toThrow(
      new RegExp(`${element} is not evaluated locally`),
    );
  });

  test('unresolved intrinsics and malformed statements are refused', () => {
    expect(() => parseStatement({ Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::GetAtt': ['B', 'Arn'] } })).toThrow(UnsupportedPolicyError);
    expect(() => parseStatement({ Effect: 'Allow', Action: [], Resource: '*' })).toThrow(UnsupportedPolicyError);
    expect(() => parseStatement({ Effect: 'allow', Action: 's3:x', Resource: '*' })).toThrow(UnsupportedPolicyError);
    expect(() => parseStatement({ Effect: 'Allow', Resource: '*' })).toThrow(UnsupportedPolicyError);
  });
});

/** Printable strings without the wildcard characters: literal text to build patterns from. */
const literal = fc.string({ unit: fc.constantFrom(...'abcXYZ09:/-._+()[]^$|\\'.split('')), maxLength: 12 });

describe('properties', () => {
  test('a literal pattern matches exactly itself (resources), and itself in any case (actions)', () => {
    fc.assert(
      fc.property(literal, literal, (a, b) => {
        expect(resourceMatches(a, b)).toBe(a === b);
        expect(actionMatches(a, b)).toBe(a.toLowerCase() === b.toLowerCase());
      }),
    );
  });

  test('prefix* matches every extension of the prefix, including across slashes', () => {
    fc.assert(
      fc.property(literal, literal, (prefix, rest) => {
        expect(resourceMatches(`${prefix}*`, `${prefix}${rest}`)).toBe(true);
        expect(resourceMatches(`${prefix}*`, prefix.slice(0, -1))).toBe(prefix.length === 0 ? true : false);
      }),
    );
  });

  test('? matches exactly one character', () => {
    fc.assert(
      fc.property(literal, literal, fc.string({ unit: 'grapheme', minLength: 0, maxLength: 3 }), (a, b, mid) => {
        expect(resourceMatches(`${a}?${b}`, `${a}${mid}${b}`)).toBe([...mid].length === 1);
      }),
    );
  });

  test('adding a Deny never turns a refusal into an allow; adding an Allow never turns an allow into a refusal', () => {
    const stmt = fc.record({
      effect: fc.constantFrom<'Allow' | 'Deny'>('Allow', 'Deny'),
      actions: fc.array(fc.constantFrom('dynamodb:GetItem', 'dynamodb:*', 'dynamodb:?etItem', 's3:PutObject', '*'), { minLength: 1, maxLength: 3 }),
      resources: fc.array(fc.constantFrom(TABLE, `${TABLE}*`, '*', 'arn:aws:s3:::b/*'), { minLength: 1, maxLength: 2 }),
    });
    fc.assert(
      fc.property(fc.array(stmt, { maxLength: 5 }), stmt, fc.constantFrom('dynamodb:GetItem', 's3:PutObject'), fc.constantFrom(TABLE, 'arn:aws:s3:::b/k'), (policy, extra, action, resource) => {
        const before = isAllowed(policy, action, resource);
        const after = isAllowed([...policy, extra], action, resource);
        if (extra.effect === 'Deny' && !before) expect(after).toBe(false);
        if (extra.effect === 'Allow' && before) expect(after).toBe(true);
        // Order never matters.
        expect(isAllowed([extra, ...policy], action, resource)).toBe(after);
      }),
    );
  });
});
