/**
 * IAM evaluation of one role's identity-based statements, as AWS documents it for a single
 * account without SCPs, boundaries or session policies: an explicit Deny wins, then any Allow,
 * else the request is implicitly denied.
 *
 * Matching (IAM User Guide, "IAM JSON policy elements: Action / Resource"):
 * - actions are case-insensitive; `*` matches any run of characters, `?` exactly one;
 * - resource ARNs are case-sensitive with the same wildcards, and `*` crosses `/` (so
 *   `bucket/uploads/*` covers `bucket/uploads/a/b`).
 *
 * Pure: no I/O. The local cloud's DynamoDB front and the least-privilege report use it; S3 is
 * enforced by RGW itself from a bucket policy built from the same statements (bucket-policy.ts).
 */
import type { PolicyStatement } from '../template.js';

export type { PolicyStatement };

/** The template uses a policy element the local evaluator does not implement: refuse, never guess. */
export class UnsupportedPolicyError extends Error {
  override readonly name = 'UnsupportedPolicyError';
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** `*` and `?` as IAM reads them; every other character literally. */
export function wildcardRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  // `s`: `.` also matches a newline (an S3 key may hold one); `u`: `?` is one code point, not
  // one UTF-16 unit.
  return new RegExp(`^${re}$`, caseInsensitive ? 'isu' : 'su');
}

// Patterns repeat across thousands of checks (every DynamoDB call); compile each once.
const cache = new Map<string, RegExp>();
function compiled(pattern: string, caseInsensitive: boolean): RegExp {
  const key = `${caseInsensitive ? 'i' : 's'}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    re = wildcardRegExp(pattern, caseInsensitive);
    cache.set(key, re);
  }
  return re;
}

export function actionMatches(pattern: string, action: string): boolean {
  return compiled(pattern, true).test(action);
}

export function resourceMatches(pattern: string, resource: string): boolean {
  return compiled(pattern, false).test(resource);
}

function statementCovers(s: PolicyStatement, action: string, resource: string): boolean {
  return s.actions.some((a) => actionMatches(a, action)) && s.resources.some((r) => resourceMatches(r, resource));
}

/**
 * Policy variables (`${aws:username}`) would need request context the local cloud does not
 * model; literal `$` in an ARN is otherwise meaningless, so any `${` is refused.
 */
function assertEvaluable(policy: readonly PolicyStatement[]): void {
  for (const s of policy) {
    if (s.effect !== 'Allow' && s.effect !== 'Deny') throw new UnsupportedPolicyError(`statement effect ${String(s.effect)}`);
    for (const r of s.resources) {
      if (r.includes('${')) throw new UnsupportedPolicyError(`policy variable in resource ${r}`);
    }
  }
}

export function evaluate(policy: readonly PolicyStatement[], action: string, resource: string): Decision {
  assertEvaluable(policy);
  let allowed = false;
  for (const s of policy) {
    if (!statementCovers(s, action, resource)) continue;
    if (s.effect === 'Deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

export function isAllowed(policy: readonly PolicyStatement[], action: string, resource: string): boolean {
  return evaluate(policy, action, resource) === 'allow';
}

/** A statement as it appears in a CloudFormation policy document, after intrinsics are resolved. */
export interface RawStatement {
  Effect?: unknown;
  Action?: unknown;
  Resource?: unknown;
  [element: string]: unknown;
}

/**
 * Elements whose meaning the evaluator does not implement. Ignoring any of them would change
 * the decision silently (a Condition narrows an Allow, NotAction widens it), so their presence
 * is an error: extend the evaluator before the template may use them.
 */
const UNSUPPORTED_ELEMENTS = ['NotAction', 'NotResource', 'Condition', 'Principal', 'NotPrincipal'] as const;

function strings(v: unknown, what: string): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || !list.every((x): x is string => typeof x === 'string')) {
    throw new UnsupportedPolicyError(`${what} must be a string or a list of strings (unresolved intrinsic?): ${JSON.stringify(v)}`);
  }
  return list;
}

/** One resolved CloudFormation statement -> PolicyStatement, refusing what cannot be evaluated. */
export function parseStatement(raw: RawStatement, where = 'statement'): PolicyStatement {
  for (const el of UNSUPPORTED_ELEMENTS) {
    if (raw[el] !== undefined) throw new UnsupportedPolicyError(`${where}: ${el} is not evaluated locally; refusing the policy`);
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw new UnsupportedPolicyError(`${where}: Effect ${JSON.stringify(raw.Effect)}`);
  if (raw.Action === undefined) throw new UnsupportedPolicyError(`${where}: no Action`);
  if (raw.Resource === undefined) throw new UnsupportedPolicyError(`${where}: no Resource`);
  const statement: PolicyStatement = { effect: raw.Effect, actions: strings(raw.Action, `${where}: Action`), resources: strings(raw.Resource, `${where}: Resource`) };
  assertEvaluable([statement]);
  return statement;
}
