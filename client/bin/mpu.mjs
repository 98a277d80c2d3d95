#!/usr/bin/env node
// `mpu`: the bundled CLI (dist/cli.js, built by `npm run build` in client/, or on `npm pack`).
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // The client needs Node 22+; fail with advice rather than a stack trace.
  process.stderr.write(
    `mpu: needs Node.js 22 or newer, this is ${process.version}. ` +
      'In this repository run it as `npx mpu ...` or `npm run mpu -- ...` (they use the Node 24 that npm ci installed).\n',
  );
  process.exit(2);
}
try {
  await import('../dist/cli.js');
} catch (e) {
  // Only a checkout can lack dist/ (the package ships it): say how to build it.
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/cli.js')) {
    process.stderr.write('mpu: the client is not built (no dist/cli.js). In this repository run `npm run build`.\n');
    process.exit(2);
  }
  throw e;
}
