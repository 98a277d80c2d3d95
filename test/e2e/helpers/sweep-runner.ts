/**
 * Runs the sweeper's Lambda entry (lambdas/handlers/sweep.ts) in its own process, configured
 * only by the environment, as a scheduled invocation would be: `node --import tsx sweep-runner.ts`.
 * It loads the handler, prints `READY`, waits for a line on stdin (so a test can start several
 * runners at the same instant), invokes the handler once and prints `RESULT <json>`.
 */
import { createInterface } from 'node:readline';

const { handler } = await import('../../../lambdas/handlers/sweep.js');
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
