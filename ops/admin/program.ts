/**
 * `mpu-admin`: the operator's tool. Its commands need AWS credentials (or the local cloud's) and
 * the stack's outputs, so they live here and not in the uploader `mpu`, which needs only an API
 * URL and a token. Exit codes are the uploader's (client EXIT): 0 ok, 1 failed, 2 usage,
 * 6 credentials refused.
 */
import { Command, CommanderError } from 'commander';
import { EXIT, toMpuError } from '../../client/index.js';
import { registerTokenCommands, type TokenIo } from './token-commands.js';

export type AdminIo = TokenIo;

/** Runs the tool; resolves with the exit code. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('mpu-admin')
    .description('Operator commands of the upload service: API tokens in the tokens table.')
    .showHelpAfterError('(mpu-admin --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  registerTokenCommands(program, io, (code) => (exitCode = code));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are exits with 0; everything else commander reports is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const e = toMpuError(err);
    io.stderr.write(`mpu-admin: ${e.message}\n`);
    return e.exitCode;
  }
  return exitCode;
}
