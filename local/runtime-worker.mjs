// One Lambda execution environment: a worker thread that imports ONE function's bundle (the asset
// cdk synth produced) once and invokes its handler for every message, like a warm Lambda keeps
// its module. Plain JavaScript on purpose: the worker runs without tsx, so a cold start measures
// loading the bundle, not transpiling this file. Protocol (local/runtime.ts):
//   parent -> { type: 'invoke', id, event, context: { functionName, ..., deadline } }
//   worker -> { type: 'ready', initMs } once, then { type: 'result', id, ok, value | error }
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { assetDir, handler } = workerData;
// Lambda applies NODE_OPTIONS to the runtime; a worker cannot take process flags, but the one the
// stack sets (source maps for stack traces) has a runtime switch.
if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

const dot = handler.lastIndexOf('.');
const file = handler.slice(0, dot);
const exportName = handler.slice(dot + 1);
const candidates = ['.mjs', '.js', '.cjs'].map((ext) => join(assetDir, `${file}${ext}`));
const modulePath = candidates.find((p) => existsSync(p));

const t0 = performance.now();
let fn;
try {
  if (!modulePath) throw new Error(`Runtime.ImportModuleError: no ${file}.mjs/.js/.cjs in ${assetDir}`);
  const mod = await import(pathToFileURL(modulePath).href);
  fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`Runtime.HandlerNotFound: ${handler} is undefined or not exported`);
  parentPort.postMessage({ type: 'ready', initMs: Math.round(performance.now() - t0) });
} catch (e) {
  // The parent ends this environment; without a message listener the worker exits by itself too.
  parentPort.postMessage({ type: 'init-error', error: serialize(e) });
  fn = undefined;
}

function serialize(e) {
  return e instanceof Error ? { name: e.name, message: e.message, stack: e.stack ?? '' } : { name: 'Error', message: String(e), stack: '' };
}

if (fn) parentPort.on('message', (msg) => {
  if (msg.type !== 'invoke') return;
  const c = msg.context;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: c.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: String(c.memoryMb),
    awsRequestId: c.awsRequestId,
    logGroupName: c.logGroupName,
    logStreamName: c.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, c.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  Promise.resolve()
    .then(() => fn(msg.event, context))
    .then(
      (value) => parentPort.postMessage({ type: 'result', id: msg.id, ok: true, value }),
      (e) => parentPort.postMessage({ type: 'result', id: msg.id, ok: false, error: serialize(e) }),
    );
});
