/** Runs the `mpu` program in-process with captured stdout/stderr, for CLI unit tests. */
import { Writable } from 'node:stream';
import { runCli } from '../../../client/cli/program.js';

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

export async function runCliCaptured(args: string[], env: Record<string, string>, cwd: string) {
  const out = sink();
  const err = sink();
  const code = await runCli(args, { stdout: out.stream, stderr: err.stream, env, cwd });
  return { code, stdout: out.text(), stderr: err.text() };
}
