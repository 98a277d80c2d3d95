/**
 * Runs the sweeper's Lambda entry in its own process, configured only by the environment, as a
 * scheduled invocation would be: `node --import tsx sweep-runner.ts`. With the environment of the
 * local cloud's sweep function (LocalCloud.handlerEnv: LAMBDA_TASK_ROOT and _HANDLER name its
 * bundle, as on Lambda) it runs that bundle; without them lambdas/handlers/sweep.ts from source.
 * It loads the handler, prints `READY`, waits for a line on stdin (so a test can start several
 * runners at the same instant), invokes the handler once and prints `RESULT <json>`.
 */
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

type SweepHandler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

async function loadHandler(): Promise<SweepHandler> {
  const root = process.env.LAMBDA_TASK_ROOT;
  const name = process.env._HANDLER;
  if (root && name) {
    const dot = name.lastIndexOf('.');
    const mod = (await import(pathToFileURL(join(root, `${name.slice(0, dot)}.mjs`)).href)) as Record<string, unknown>;
    const fn = mod[name.slice(dot + 1)];
    if (typeof fn !== 'function') throw new Error(`${name} is not a function of the bundle in ${root}`);
    return fn as SweepHandler;
  }
  return (await import('../../../lambdas/handlers/sweep.js')).handler as SweepHandler;
}

const handler = await loadHandler();
process.stdout.write('READY\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();
try {
  // The deployed function's 5-minute timeout, counted from the invocation.
  const deadline = Date.now() + 300_000;
  const result = await handler({}, { getRemainingTimeInMillis: () => deadline - Date.now() });
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} catch (e) {
  process.stdout.write(`FAILED ${JSON.stringify({ message: e instanceof Error ? e.message : String(e) })}\n`);
  process.exitCode = 1;
}
