/**
 * --include / --exclude patterns: shell-style globs over `/`-separated relative paths. Pure.
 * `*` and `?` stay within one segment, `**` crosses segments, `[abc]` is a class. A pattern
 * without `/` matches the base name at any depth (`*.log`), one with `/` the whole relative
 * path (`logs/**`) — the way .gitignore reads them. Own code rather than path.matchesGlob,
 * which Node 20 still marks experimental (it prints a warning on every run).
 */
export type PathMatcher = (relativePath: string) => boolean;

export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` also matches no directory at all: `a/**/b` matches `a/b`.
        if (pattern[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        re += '\\[';
      } else {
        const body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else {
      re += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 'u');
}

export function globMatcher(pattern: string): PathMatcher {
  const re = globToRegExp(pattern.replace(/^\.\//, ''));
  if (pattern.includes('/')) return (p) => re.test(p);
  return (p) => re.test(p.slice(p.lastIndexOf('/') + 1));
}

/**
 * A file is taken when it matches some include (or there are none) and no exclude. Both lists
 * are plain filters: an exclude always wins, so `--exclude '*.tmp' --include 'a.tmp'` skips a.tmp.
 */
export function pathFilter(include: readonly string[], exclude: readonly string[]): PathMatcher {
  const inc = include.map(globMatcher);
  const exc = exclude.map(globMatcher);
  return (p) => (inc.length === 0 || inc.some((m) => m(p))) && !exc.some((m) => m(p));
}
