#!/usr/bin/env node
// `mpu`: runs the TypeScript source directly (tsx), so the command is always the current code.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
