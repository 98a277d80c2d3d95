/**
 * The demo's verdict, apart from its I/O so it can be tested.
 *
 * What storage held at the kill is not what the resume found: a part whose bytes were all sent
 * before the SIGKILL still lands in storage a moment later. The resume must send exactly the
 * parts storage lacked when it began (as the resuming client found and verified them), and that
 * can only be more than were there at the kill, never fewer.
 */
export interface DemoFacts {
  total: number;
  /** Parts storage held right after the first run was SIGKILLed. */
  storedAtKill: number;
  /** Parts storage held when the resume began, as the resuming client found them. */
  storedAtResumeStart: number;
  partsSent: number;
  sameSession: boolean;
  resumed: boolean;
  hashesMatch: boolean;
}

export interface DemoVerdict {
  ok: boolean;
  /** The resume sent exactly the parts storage lacked when it began. */
  onlyMissing: boolean;
  /** What is wrong, one phrase each (empty when ok). */
  problems: string[];
}

export function checkDemo(f: DemoFacts): DemoVerdict {
  const problems: string[] = [];
  const missing = f.total - f.storedAtResumeStart;
  const onlyMissing = f.partsSent === missing;
  if (!f.hashesMatch) problems.push('the stored object differs from the file');
  if (!f.sameSession) problems.push('the resume used another session');
  if (!f.resumed) problems.push('the second run did not resume');
  if (f.storedAtKill >= f.total) problems.push(`storage held all ${f.total} parts at the kill: nothing was left to resume`);
  if (f.storedAtResumeStart < f.storedAtKill || f.storedAtResumeStart > f.total) {
    problems.push(`the resume found ${f.storedAtResumeStart} stored parts, but storage held ${f.storedAtKill} of ${f.total} at the kill`);
  }
  if (!onlyMissing) problems.push(`the resume sent ${f.partsSent} parts, but ${missing} were missing when it began`);
  return { ok: problems.length === 0, onlyMissing, problems };
}
