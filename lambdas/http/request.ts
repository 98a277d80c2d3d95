/** Reading an API Gateway HTTP API (payload 2.0) event into checked values. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ApiError } from '../core/errors.js';
import { isSessionId } from '../core/ids.js';
import { API_LIMITS } from '../../contract/limits.js';
import { headerOf } from './headers.js';

export { headerOf };

/**
 * The caller as the authorizer established it (token authorizer, JWT `sub`, or IAM principal).
 * Fails closed: a request that reached a handler without an authorized principal is refused,
 * so a route deployed without an authorizer can never serve sessions to anyone.
 */
export function ownerOf(event: APIGatewayProxyEventV2): string {
  const ctx = (event.requestContext as { authorizer?: Record<string, unknown> }).authorizer;
  const lambda = ctx?.lambda as Record<string, unknown> | undefined;
  const jwt = ctx?.jwt as { claims?: Record<string, unknown> } | undefined;
  const iam = ctx?.iam as { userArn?: unknown } | undefined;
  const owner = lambda?.owner ?? jwt?.claims?.sub ?? iam?.userArn;
  if (typeof owner !== 'string' || owner.length === 0) throw new ApiError('unauthorized', 'no authorized caller');
  return owner;
}

/** The `{session_id}` path parameter, format-checked before anything touches the database. */
export function sessionIdOf(event: APIGatewayProxyEventV2): string {
  const id = event.pathParameters?.session_id ?? '';
  if (!isSessionId(id)) throw new ApiError('validation_error', 'session_id must be 22 base64url characters');
  return id;
}

/** Longest Idempotency-Key accepted (a UUID is 36 characters). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters. */
export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
  const key = headerOf(event.headers, 'idempotency-key');
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]+$/.test(key) || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ApiError('validation_error', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`);
  }
  return key;
}

/** The JSON body; an absent body reads as `{}` so routes whose fields are all optional accept none. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body;
  if (raw === undefined || raw === null || raw === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > API_LIMITS.maxBodyBytes) {
    throw new ApiError('payload_too_large', `request body must be at most ${API_LIMITS.maxBodyBytes} bytes`);
  }
  const type = headerOf(event.headers, 'content-type');
  if (type !== undefined && !/^application\/([\w.+-]+\+)?json\b/i.test(type)) {
    throw new ApiError('unsupported_media_type', 'request body must be application/json');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('validation_error', 'request body is not valid JSON');
  }
}
