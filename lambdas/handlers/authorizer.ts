/** Lambda authorizer of every HTTP API route: API tokens (see lambdas/http/authorizer.ts). */
import { authorizerHandler } from '../http/authorizer.js';

export const handler = authorizerHandler();
