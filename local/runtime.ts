/**
 * The local Lambda service: each function of the synthesized stack runs from its bundle in its own
 * worker thread (runtime-worker.mjs) with its own environment, as a Lambda execution environment
 * does: the template's variables plus what the Lambda service itself provides (region,
 * credentials, function name, log settings) and the local cloud's endpoints.
 *
 * Like Lambda: the module is imported once per environment and reused while warm (cold starts are
 * timed and logged); the context's getRemainingTimeInMillis counts down the template's timeout;
 * an invocation that outlives it fails with "Task timed out" and its environment is destroyed
 * (the worker terminated), so the next invocation starts cold. Unlike Lambda, concurrent
 * invocations of one function share its one environment (they interleave at await points, as
 * they did in the in-process gateway) instead of getting one environment each.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { FunctionId } from '../lib/access.js';
import { localArn, type DeployedFunction } from './template.js';

export class FunctionError extends Error {
  override readonly name = 'FunctionError';
  constructor(
    readonly functionId: string,
    readonly errorType: string,
    message: string,
    readonly remoteStack = '',
  ) {
    super(`${functionId}: ${errorType}: ${message}`);
  }
}

export class FunctionTimeout extends FunctionError {
  constructor(functionId: string, seconds: number) {
    super(functionId, 'Sandbox.Timedout', `Task timed out after ${seconds.toFixed(2)} seconds`);
  }
}

export interface RuntimeFunction {
  fn: DeployedFunction;
  /** The local Lambda service's variables for this function (credentials, endpoints, ...). */
  serviceEnv: Record<string, string>;
}

export interface RuntimeOptions {
  region: string;
  functions: RuntimeFunction[];
  log?: (line: string) => void;
}

export interface InvokeOptions {
  /** The caller's id for the invocation (API Gateway passes its own); default a fresh UUID. */
  requestId?: string;
}

export interface RuntimeStats {
  coldStarts: Partial<Record<FunctionId, number[]>>;
  invocations: Partial<Record<FunctionId, number>>;
  timeouts: Partial<Record<FunctionId, number>>;
}

export interface LambdaRuntime {
  invoke(id: FunctionId, event: unknown, opts?: InvokeOptions): Promise<unknown>;
  has(id: FunctionId): boolean;
  readonly stats: RuntimeStats;
  close(): Promise<void>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

interface WorkerMessage {
  type: 'ready' | 'init-error' | 'result';
  id?: number;
  ok?: boolean;
  value?: unknown;
  initMs?: number;
  error?: { name: string; message: string; stack: string };
}

const WORKER_URL = new URL('./runtime-worker.mjs', import.meta.url);

/**
 * The variables the Lambda service sets itself (reserved: a template cannot set them), for
 * `fn` locally. `LoggingConfig` of the stack is JSON logs at INFO: Powertools Logger reads
 * AWS_LAMBDA_LOG_LEVEL / AWS_LAMBDA_LOG_FORMAT as it does on Lambda.
 */
export function reservedEnv(fn: DeployedFunction, functionName: string, region: string): Record<string, string> {
  return {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_LOG_FORMAT: 'JSON',
    AWS_LAMBDA_LOG_LEVEL: 'INFO',
    LAMBDA_TASK_ROOT: fn.assetDir,
    _HANDLER: fn.handler,
    TZ: ':UTC',
    // Static credentials are set; the SDK must never look for instance metadata (not loopback).
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * A function's complete environment: the service's plumbing, the template's variables over it,
 * and the reserved variables over both (as on Lambda, where the template cannot set them).
 */
export function functionEnvironment(fn: DeployedFunction, functionName: string, region: string, serviceEnv: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...serviceEnv, ...fn.environment, ...reservedEnv(fn, functionName, region) };
}

class Environment {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(
    private readonly rf: RuntimeFunction,
    private readonly functionName: string,
    private readonly region: string,
    private readonly stats: RuntimeStats,
    private readonly log: (line: string) => void,
  ) {}

  private get id(): FunctionId {
    return this.rf.fn.id;
  }

  private start(): Promise<void> {
    const t0 = Date.now();
    const worker = new Worker(WORKER_URL, {
      workerData: { assetDir: this.rf.fn.assetDir, handler: this.rf.fn.handler },
      env: functionEnvironment(this.rf.fn, this.functionName, this.region, this.rf.serviceEnv),
      // No tsx, no inherited flags: the bundle is plain JavaScript, as Lambda runs it.
      execArgv: [],
      // Lambda's memory setting caps the heap too (roughly: the old generation gets the rest).
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, this.rf.fn.memoryMb) },
    });
    this.worker = worker;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          const ms = Date.now() - t0;
          (this.stats.coldStarts[this.id] ??= []).push(ms);
          this.log(`lambda ${this.id}: cold start ${ms} ms (module init ${m.initMs} ms)`);
          resolve();
        } else if (m.type === 'init-error') {
          const err = new FunctionError(this.id, 'Runtime.InitError', m.error?.message ?? 'init failed', m.error?.stack);
          this.log(`lambda ${this.id}: init failed: ${m.error?.stack || m.error?.message}`);
          reject(err);
          this.destroy(err);
        } else if (m.type === 'result' && m.id !== undefined) {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.ok) p.resolve(m.value);
          else p.reject(new FunctionError(this.id, m.error?.name ?? 'Error', m.error?.message ?? 'failed', m.error?.stack));
        }
      });
      worker.on('error', (e) => {
        const err = new FunctionError(this.id, 'Runtime.ExitError', e.message, e.stack);
        this.log(`lambda ${this.id}: environment crashed: ${e.stack ?? e.message}`);
        reject(err);
        this.destroy(err);
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.destroy(new FunctionError(this.id, 'Runtime.ExitError', `exited with code ${code}`));
      });
    });
    // A failed start is not kept: the next invocation starts a new environment.
    ready.catch(() => undefined);
    return ready;
  }

  /** Ends the environment; every invocation still in it fails with `why`. */
  destroy(why: Error): void {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    for (const p of this.pending.values()) p.reject(why);
    this.pending.clear();
    if (w) void w.terminate();
  }

  async invoke(event: unknown, opts: InvokeOptions): Promise<unknown> {
    if (!this.ready) this.ready = this.start();
    const ready = this.ready;
    const timeoutMs = this.rf.fn.timeoutSeconds * 1000;
    const started = Date.now();
    await ready;
    // The timeout counts from the invocation (init has its own 10 s on Lambda, not modelled).
    const deadline = Date.now() + timeoutMs;
    const worker = this.worker;
    if (!worker) throw new FunctionError(this.id, 'Runtime.ExitError', 'environment gone before the invocation');
    const id = ++this.seq;
    const requestId = opts.requestId ?? randomUUID();
    this.stats.invocations[this.id] = (this.stats.invocations[this.id] ?? 0) + 1;
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.stats.timeouts[this.id] = (this.stats.timeouts[this.id] ?? 0) + 1;
        const err = new FunctionTimeout(this.id, this.rf.fn.timeoutSeconds);
        this.log(`lambda ${this.id}: ${requestId} ${err.message} (waited ${Date.now() - started} ms); environment destroyed`);
        this.destroy(err);
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({
        type: 'invoke',
        id,
        event,
        context: {
          functionName: this.functionName,
          invokedFunctionArn: localArn.function(this.region, this.functionName),
          memoryMb: this.rf.fn.memoryMb,
          awsRequestId: requestId,
          logGroupName: `/aws/lambda/${this.functionName}`,
          logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
          deadline,
        },
      });
    });
  }
}

/** Starts no worker yet: each function's environment starts on its first invocation (cold start). */
export function startRuntime(opts: RuntimeOptions, functionName: (id: FunctionId) => string): LambdaRuntime {
  const log = opts.log ?? (() => undefined);
  const stats: RuntimeStats = { coldStarts: {}, invocations: {}, timeouts: {} };
  const envs = new Map<FunctionId, Environment>();
  for (const rf of opts.functions) envs.set(rf.fn.id, new Environment(rf, functionName(rf.fn.id), opts.region, stats, log));
  return {
    stats,
    has: (id) => envs.has(id),
    invoke: (id, event, o = {}) => {
      const env = envs.get(id);
      if (!env) return Promise.reject(new FunctionError(id, 'ResourceNotFoundException', 'Function not found'));
      return env.invoke(event, o);
    },
    close: async () => {
      for (const env of envs.values()) env.destroy(new FunctionError('runtime', 'Runtime.Shutdown', 'the local Lambda service stopped'));
    },
  };
}
