import { randomBytes } from 'node:crypto';
import { SESSION_ID_PATTERN } from '../../contract/api.js';

/**
 * 128 random bits from the OS CSPRNG, base64url: unguessable and URL-safe. An id that would
 * start with '-' is drawn again: a command line reads it as an option (`mpu status -Xa…` is a
 * usage error), so one session in 64 could not be named as an argument.
 */
export function newSessionId(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function isSessionId(value: string): boolean {
  return SESSION_ID_PATTERN.test(value);
}
