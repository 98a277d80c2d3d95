import { checkDemo, type DemoFacts } from '../../scripts/demo-check.js';

const base: DemoFacts = { total: 20, storedAtKill: 12, storedAtResumeStart: 12, partsSent: 8, sameSession: true, resumed: true, hashesMatch: true };

test('parts that land in storage after the kill are not counted as missing (seen: killed at 12/20, resume found 14, sent 6)', () => {
  expect(checkDemo({ ...base, storedAtResumeStart: 14, partsSent: 6 })).toEqual({ ok: true, onlyMissing: true, problems: [] });
});

test('nothing landed after the kill: the resume sends exactly the rest', () => {
  expect(checkDemo(base).ok).toBe(true);
});

test.each([
  ['a part sent again that storage already held', { storedAtResumeStart: 14, partsSent: 7 }, /sent 7 parts, but 6 were missing/],
  ['a missing part not sent', { storedAtResumeStart: 14, partsSent: 5 }, /sent 5 parts, but 6 were missing/],
  ['storage lost parts between the kill and the resume', { storedAtResumeStart: 11, partsSent: 9 }, /found 11 stored parts, but storage held 12/],
  ['more stored parts than the file has', { storedAtResumeStart: 21, partsSent: -1 }, /found 21 stored parts/],
  ['the kill came too late to leave anything to resume', { storedAtKill: 20, storedAtResumeStart: 20, partsSent: 0 }, /nothing was left to resume/],
  ['another session', { sameSession: false }, /another session/],
  ['no resume', { resumed: false }, /did not resume/],
  ['a corrupt object', { hashesMatch: false }, /differs from the file/],
])('%s is a failure', (_name, change, problem) => {
  const v = checkDemo({ ...base, ...change });
  expect(v.ok).toBe(false);
  expect(v.problems.join('; ')).toMatch(problem);
});
