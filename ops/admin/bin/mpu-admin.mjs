#!/usr/bin/env node
// `mpu-admin`: the operator tool, run from its TypeScript source (tsx) inside this repository.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(
    `mpu-admin: needs Node.js 22 or newer, this is ${process.version}. ` +
      'In this repository run it as `npm run -s admin -- ...` (it uses the Node 24 that npm ci installed).\n',
  );
  process.exit(2);
}
const { register } = await import('tsx/esm/api');
register();
await import('../main.ts');
