/**
 * The files below a directory, for `mpu upload DIR`: every regular file, recursively, with its
 * path relative to DIR in `/`-separated form (the object key's tail). Symbolic links are not
 * followed unless asked (a link can lead out of the tree, or in a loop); with `followSymlinks`, a
 * directory already visited (by device and inode) is not entered again. Sockets, FIFOs and
 * devices are reported, never read: a FIFO would block the run.
 */
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PathMatcher } from './glob.js';

export interface TreeFile {
  kind: 'file';
  /** Path as given (root joined with the relative path), for reading and messages. */
  path: string;
  /** `/`-separated path below the root. */
  relativePath: string;
  size: number;
  mtimeMs: number;
}

export interface TreeSkip {
  kind: 'skip';
  path: string;
  relativePath: string;
  reason: 'symlink' | 'special' | 'unreadable' | 'loop';
  detail?: string;
}

export type TreeEntry = TreeFile | TreeSkip;

export interface WalkOptions {
  followSymlinks?: boolean;
  /** Only files whose relative path passes (directories are always entered). */
  filter?: PathMatcher;
}

/** Entries in a stable order (names sorted by code point per directory), files and skips alike. */
export async function* walkTree(root: string, opts: WalkOptions = {}): AsyncGenerator<TreeEntry> {
  const seen = new Set<string>();
  const rootStat = await stat(root);
  seen.add(`${rootStat.dev}:${rootStat.ino}`);
  yield* walkDir(root, '', opts, seen);
}

async function* walkDir(dir: string, rel: string, opts: WalkOptions, seen: Set<string>): AsyncGenerator<TreeEntry> {
  let names: { name: string; isDir: boolean; isFile: boolean; isLink: boolean }[];
  try {
    names = [];
    for await (const d of await opendir(dir)) {
      names.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile(), isLink: d.isSymbolicLink() });
    }
  } catch (e) {
    yield { kind: 'skip', path: dir, relativePath: rel, reason: 'unreadable', detail: (e as Error).message };
    return;
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of names) {
    const path = join(dir, d.name);
    const relativePath = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isLink && !opts.followSymlinks) {
      if (!opts.filter || opts.filter(relativePath)) yield { kind: 'skip', path, relativePath, reason: 'symlink' };
      continue;
    }
    let isDir = d.isDir;
    let isFile = d.isFile;
    let st: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      // stat follows a link (only reached with followSymlinks); for a plain entry it gives size and mtime.
      st = await stat(path);
      isDir = st.isDirectory();
      isFile = st.isFile();
    } catch (e) {
      yield { kind: 'skip', path, relativePath, reason: 'unreadable', detail: (e as Error).message };
      continue;
    }
    if (isDir) {
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) {
        yield { kind: 'skip', path, relativePath, reason: 'loop' };
        continue;
      }
      seen.add(id);
      yield* walkDir(path, relativePath, opts, seen);
      continue;
    }
    if (opts.filter && !opts.filter(relativePath)) continue;
    if (!isFile) {
      yield { kind: 'skip', path, relativePath, reason: 'special' };
      continue;
    }
    yield { kind: 'file', path, relativePath, size: st.size, mtimeMs: st.mtimeMs };
  }
}
