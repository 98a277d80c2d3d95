#!/usr/bin/env node
// `mpu`: runs the TypeScript source directly (tsx), so the command is always the current code.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // undici 8 and the client need Node 22+; fail with advice rather than a stack trace.
  process.stderr.write(
    `mpu: needs Node.js 22 or newer, this is ${process.version}. ` +
      'In this repository run it as `npx mpu ...` or `npm run mpu -- ...` (they use the Node 24 that npm ci installed).\n',
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('../cli.ts');
