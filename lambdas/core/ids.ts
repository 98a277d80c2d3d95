import { randomBytes } from 'node:crypto';
import { SESSION_ID_PATTERN } from '../../contract/api.js';

/** 128 random bits from the OS CSPRNG, base64url: unguessable and URL-safe. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

export function isSessionId(value: string): boolean {
  return SESSION_ID_PATTERN.test(value);
}
