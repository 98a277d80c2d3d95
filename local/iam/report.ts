/**
 * The least-privilege report: per function, the actions its role grants against the actions it
 * was seen calling (DynamoDB front, RGW's log), both ways:
 * - a granted action no call exercised is a grant nobody proved necessary: it must be
 *   acknowledged with a reason (acknowledged-grants.ts) or removed;
 * - a refused call is a grant the code needs and lacks.
 * An acknowledgement for a grant that no longer exists, or that calls did exercise, is stale.
 *
 * Pure: call-log entries in, report and problems out (report-main.ts does the I/O).
 */
import type { CallLogEntry } from './provision.js';
import { actionMatches, resourceMatches, type PolicyStatement } from './policy.js';

export interface Acknowledgement {
  functionId: string;
  action: string;
  reason: string;
}

export interface FunctionReport {
  functionId: string;
  /** Action patterns as the role grants them, sorted. */
  granted: string[];
  /** Actions called and allowed, with how often. */
  called: Record<string, number>;
  /** Calls refused (AccessDenied): `action on resource`, with how often. */
  refused: Record<string, number>;
  /** Granted, never exercised, and acknowledged: the reason. */
  acknowledged: Record<string, string>;
  /** Granted, never exercised, not acknowledged. */
  unexercised: string[];
}

export interface LeastPrivilegeReport {
  functions: FunctionReport[];
  /** Acknowledgements that name no current unexercised grant. */
  staleAcknowledgements: Acknowledgement[];
}

function exercised(policy: readonly PolicyStatement[], pattern: string, calls: readonly { action: string; resource: string }[]): boolean {
  // Exercised: an allowed call this very statement covers (action pattern and one of its resources).
  return policy.some(
    (s) => s.effect === 'Allow' && s.actions.includes(pattern) && calls.some((c) => actionMatches(pattern, c.action) && s.resources.some((r) => resourceMatches(r, c.resource))),
  );
}

export function buildReport(entries: readonly CallLogEntry[], acknowledgements: readonly Acknowledgement[]): LeastPrivilegeReport {
  const functions = entries.filter((e): e is Extract<CallLogEntry, { type: 'function' }> => e.type === 'function');
  const calls = entries.filter((e): e is Extract<CallLogEntry, { type: 'call' }> => e.type === 'call');
  const used = new Set<Acknowledgement>();
  const reports = functions.map((f): FunctionReport => {
    const mine = calls.filter((c) => c.functionId === f.functionId);
    const allowed = mine.filter((c) => c.decision === 'allow');
    const count = (list: typeof mine, key: (c: (typeof mine)[number]) => string) => {
      const out: Record<string, number> = {};
      for (const c of list) out[key(c)] = (out[key(c)] ?? 0) + 1;
      return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
    };
    const granted = [...new Set(f.policy.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions))].sort();
    const acknowledged: Record<string, string> = {};
    const unexercised: string[] = [];
    for (const action of granted) {
      if (exercised(f.policy, action, allowed)) continue;
      const ack = acknowledgements.find((a) => a.functionId === f.functionId && a.action === action);
      if (ack) {
        acknowledged[action] = ack.reason;
        used.add(ack);
      } else unexercised.push(action);
    }
    return {
      functionId: f.functionId,
      granted,
      called: count(allowed, (c) => c.action),
      refused: count(
        mine.filter((c) => c.decision !== 'allow'),
        (c) => `${c.action} on ${c.resource}`,
      ),
      acknowledged,
      unexercised,
    };
  });
  return { functions: reports, staleAcknowledgements: acknowledgements.filter((a) => !used.has(a)) };
}

/** What makes the report fail, one line each; empty when least privilege holds both ways. */
export function reportProblems(r: LeastPrivilegeReport): string[] {
  const problems: string[] = [];
  if (r.functions.length === 0) problems.push('no function identities in the call log: IAM was not enforced');
  for (const f of r.functions) {
    for (const a of f.unexercised) problems.push(`${f.functionId}: ${a} is granted but no test exercised it (remove it, test it, or acknowledge it in local/iam/acknowledged-grants.ts)`);
    for (const [what, n] of Object.entries(f.refused)) problems.push(`${f.functionId}: ${what} was refused ${n}x (a grant the code needs)`);
  }
  for (const a of r.staleAcknowledgements) problems.push(`stale acknowledgement ${a.functionId} ${a.action}: exercised or not granted any more`);
  return problems;
}

/** A table for the test output. */
export function formatReport(r: LeastPrivilegeReport): string {
  const rows: string[][] = [['function', 'action', 'granted', 'calls', 'verdict']];
  for (const f of r.functions) {
    const actions = [...new Set([...f.granted, ...Object.keys(f.called)])].sort();
    for (const a of actions) {
      const granted = f.granted.includes(a);
      const calls = f.called[a] ?? 0;
      const verdict = f.unexercised.includes(a)
        ? 'UNEXERCISED'
        : f.acknowledged[a] !== undefined
          ? `acknowledged: ${f.acknowledged[a]}`
          : !granted
            ? 'called (granted by a wildcard pattern)'
            : 'ok';
      rows.push([f.functionId, a, granted ? 'yes' : '', String(calls), verdict]);
    }
    for (const [what, n] of Object.entries(f.refused)) rows.push([f.functionId, what, 'no', String(n), 'REFUSED']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (i === 4 ? 0 : row[i]!.length))));
  return rows.map((row) => row.map((c, i) => (i === 4 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
