/**
 * The Lambda authorizer of the HTTP API (payload 2.0, REQUEST type, simple responses): the
 * identity source is the `Authorization` header; an accepted token's owner goes into the context,
 * which API Gateway hands to the route as `requestContext.authorizer.lambda` (ownerOf() reads it).
 *
 * Logs: the reason a token was refused and its public id, never the header, token or secret.
 */
import type { APIGatewayRequestAuthorizerEventV2, Context } from 'aws-lambda';
import { logger } from '../observability.js';
import { authorizeBearer, defaultAuthDeps, type AuthDeps } from '../service/authorize.js';
import { headerOf } from './headers.js';

/** What the routes receive in `requestContext.authorizer.lambda`. */
export interface AuthorizerContext {
  owner: string;
  token_id: string;
}

export type AuthorizerResult = { isAuthorized: true; context: AuthorizerContext } | { isAuthorized: false };

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEventV2, context?: Context) => Promise<AuthorizerResult>;

function authorizationHeader(event: APIGatewayRequestAuthorizerEventV2): string | undefined {
  // API Gateway puts the identity source values first; the header itself is the fallback.
  const fromSource = event.identitySource?.[0];
  if (fromSource !== undefined) return fromSource;
  return headerOf(event.headers, 'authorization');
}

export function authorizerHandler(getDeps: () => AuthDeps = defaultAuthDeps): AuthorizerHandler {
  return async (event) => {
    const where = { route: event.routeKey, source_ip: event.requestContext?.http?.sourceIp };
    let check;
    try {
      check = await authorizeBearer(authorizationHeader(event), getDeps());
    } catch (e) {
      // API Gateway answers 500 and caches nothing: a table outage never lets anyone in.
      const err = e instanceof Error ? { name: e.name, message: e.message } : { name: 'unknown', message: String(e) };
      logger.error('authorizer failed', { ...where, error: err });
      throw new Error('authorizer failed');
    }
    if (check.ok) return { isAuthorized: true, context: { owner: check.owner, token_id: check.tokenId } };
    logger.info('token refused', { ...where, reason: check.reason, ...(check.tokenId ? { token_id: check.tokenId } : {}) });
    return { isAuthorized: false };
  };
}
