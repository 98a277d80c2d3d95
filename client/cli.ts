/** Entry point of the `mpu` command: bundled into dist/cli.js, which client/bin/mpu.mjs imports. */
import { runCli } from './cli/program.js';

/** client/package.json's version, put in by the build (client/build.mjs, esbuild `define`). */
declare const MPU_CLIENT_VERSION: string;

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  onSignal: (handler) => {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
  exit: (c) => process.exit(c),
  version: MPU_CLIENT_VERSION,
});
process.exitCode = code;
