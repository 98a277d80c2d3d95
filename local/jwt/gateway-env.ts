/**
 * How a gateway process learns that its API has a JWT authorizer: environment variables, set by
 * the local cloud (cloud.ts, from LocalCloudOptions.jwtAuth) and read by gateway-main.ts, which
 * then installs jwtAuthorizer() instead of the token authorizer. When the gateway reads the
 * authorizer from the synthesized template instead, these are what it fills in from
 * `AWS::ApiGatewayV2::Authorizer` JwtConfiguration.
 */
import type { JwtAuthSettings } from '../../lib/settings.js';
import { jwtAuthorizer, type JwtAuthorizer } from './authorizer.js';

export const JWT_GATEWAY_ENV = {
  issuer: 'MPU_GATEWAY_JWT_ISSUER',
  /** Comma-separated. */
  audience: 'MPU_GATEWAY_JWT_AUDIENCE',
  /** Seconds the issuer's keys are kept; unset: API Gateway's 2 h. Tests of key rotation lower it. */
  jwksCacheSeconds: 'MPU_GATEWAY_JWKS_CACHE_SECONDS',
} as const;

/** A JWT authorizer's settings for the local cloud: the stack's, plus how long keys are cached. */
export interface LocalJwtAuth extends JwtAuthSettings {
  jwksCacheSeconds?: number;
}

/** The environment entries that make a gateway process use this JWT authorizer. */
export function jwtGatewayEnv(auth: LocalJwtAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.audience.some((a) => a.includes(','))) throw new Error('JWT audience values must not contain ","');
  return {
    [JWT_GATEWAY_ENV.issuer]: auth.issuer,
    [JWT_GATEWAY_ENV.audience]: auth.audience.join(','),
    ...(auth.jwksCacheSeconds !== undefined ? { [JWT_GATEWAY_ENV.jwksCacheSeconds]: String(auth.jwksCacheSeconds) } : {}),
  };
}

/** The settings jwtGatewayEnv() wrote, or undefined when the gateway has no JWT authorizer. */
export function jwtAuthFromEnv(env: NodeJS.ProcessEnv): LocalJwtAuth | undefined {
  const issuer = env[JWT_GATEWAY_ENV.issuer];
  if (!issuer) return undefined;
  const audience = (env[JWT_GATEWAY_ENV.audience] ?? '').split(',').filter((a) => a.length > 0);
  if (audience.length === 0) throw new Error(`${JWT_GATEWAY_ENV.issuer} is set but ${JWT_GATEWAY_ENV.audience} is empty`);
  const ttl = env[JWT_GATEWAY_ENV.jwksCacheSeconds];
  if (ttl !== undefined && ttl !== '' && !/^\d+$/.test(ttl)) throw new Error(`${JWT_GATEWAY_ENV.jwksCacheSeconds} must be a number of seconds, got '${ttl}'`);
  return { issuer, audience, ...(ttl ? { jwksCacheSeconds: Number(ttl) } : {}) };
}

/** The JWT authorizer a gateway process should install, if its environment names one. */
export function jwtAuthorizerFromEnv(env: NodeJS.ProcessEnv): JwtAuthorizer | undefined {
  const auth = jwtAuthFromEnv(env);
  return auth ? jwtAuthorizer(auth) : undefined;
}
