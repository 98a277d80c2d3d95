/** Runs the `mpu` and `mpu-admin` programs in-process with captured stdout/stderr, for CLI unit tests. */
import { Writable } from 'node:stream';
import { runCli } from '../../../client/cli/program.js';
import { runAdmin } from '../../../ops/admin/program.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

type Program = (argv: readonly string[], io: { stdout: Writable; stderr: Writable; env: Record<string, string>; cwd: string }) => Promise<number>;

async function captured(program: Program, args: string[], env: Record<string, string>, cwd: string) {
  const out = sink();
  const err = sink();
  const code = await program(args, { stdout: out.stream, stderr: err.stream, env, cwd });
  return { code, stdout: out.text(), stderr: err.text() };
}

export function runCliCaptured(args: string[], env: Record<string, string>, cwd: string) {
  return captured(runCli, args, env, cwd);
}

export function runAdminCaptured(args: string[], env: Record<string, string>, cwd: string) {
  return captured(runAdmin, args, env, cwd);
}
