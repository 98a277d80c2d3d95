/** Entry point of the `mpu-admin` command (ops/admin/bin/mpu-admin.mjs imports this through tsx). */
import { runAdmin } from './program.js';

process.exitCode = await runAdmin(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
