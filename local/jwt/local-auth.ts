/**
 * `npm run local -- --auth jwt`: the local cloud runs the JWT variant of the stack (as deployed
 * with `-c jwtIssuer -c jwtAudience`), trusting a local OIDC issuer started first, and the
 * endpoints file's `token` is a JWT of that issuer for the default owner, so `mpu` works as is.
 */
import type { LocalJwtAuth } from './gateway-env.js';
import { preferredIssuerPort, startLocalIssuer, type LocalIssuer } from './issuer.js';

/** The audience (`jwtAudience`) of the local JWT variant. */
export const LOCAL_JWT_AUDIENCE = 'mpu-local';
/** How long the JWT written to the endpoints file is valid; restart the cloud for a new one. */
export const LOCAL_JWT_LIFETIME_SECONDS = 12 * 60 * 60;

export interface LocalJwt {
  issuer: LocalIssuer;
  /** For LocalCloudOptions.jwtAuth. */
  jwtAuth: LocalJwtAuth;
  /** A JWT whose `sub` is `owner`, valid LOCAL_JWT_LIFETIME_SECONDS. */
  tokenFor(owner: string): Promise<string>;
}

/**
 * Starts the issuer on a port that stays the same for this project (so the JWT variant's synth is
 * cached across starts), or any free port when that one is taken.
 */
export async function startLocalJwt(projectRoot: string): Promise<LocalJwt> {
  const issuer = await startLocalIssuer({ audience: LOCAL_JWT_AUDIENCE, port: preferredIssuerPort(`${projectRoot}:npm-run-local`), portFallback: true });
  return {
    issuer,
    jwtAuth: { issuer: issuer.issuer, audience: [LOCAL_JWT_AUDIENCE] },
    tokenFor: (owner) => issuer.mint({ sub: owner, expiresIn: LOCAL_JWT_LIFETIME_SECONDS }),
  };
}
