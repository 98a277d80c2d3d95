/**
 * Entry point of the gateway child process (see startGatewayProcess in gateway.ts):
 * `node --import tsx local/gateway-main.ts`, configured only through its environment, which also
 * carries the handlers' configuration (lambdas/config.ts ENV names, AWS_REGION, credentials).
 */
import { GATEWAY_ENV, startGatewayServer } from './gateway.js';

function intFromEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got '${v}'`);
  return n;
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

const port = intFromEnv(GATEWAY_ENV.port);
const timeoutMs = intFromEnv(GATEWAY_ENV.timeoutMs);
const maxBodyBytes = intFromEnv(GATEWAY_ENV.maxBodyBytes);
const gw = await startGatewayServer({
  ...(port !== undefined ? { port } : {}),
  host: process.env[GATEWAY_ENV.host] || '127.0.0.1',
  ...(timeoutMs !== undefined ? { integrationTimeoutMs: timeoutMs } : {}),
  ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
  log,
});
log(`gateway listening on ${gw.url} (pid ${process.pid})`);

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  log(`gateway stopping (${signal})`);
  // In-flight requests are cut, as when API Gateway loses its integration.
  void gw.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
