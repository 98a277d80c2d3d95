/** Wraps route logic into a Lambda handler: builds dependencies, maps every error once. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { defaultDeps, type Deps } from '../service/deps.js';
import { errorResponse, json, toApiError } from './response.js';
import { ownerOf } from './request.js';
import type { RouteId } from '../../contract/routes.js';
import { logger, flushMetrics } from '../observability.js';
import { traced } from '../tracing.js';
import { SERVER_TIMING_HEADER, formatServerTiming } from '../../contract/server-timing.js';

export interface RouteContext {
  event: APIGatewayProxyEventV2;
  owner: string;
  deps: Deps;
}

export type RouteLogic = (ctx: RouteContext) => Promise<{ status: number; body: unknown }>;

export type HttpHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export function httpHandler(route: RouteId, logic: RouteLogic, getDeps: () => Deps = defaultDeps): HttpHandler {
  return async (event) => {
    const started = performance.now();
    // The handler's own time, so that a client can tell the network's round trip from ours.
    const timed = (r: APIGatewayProxyStructuredResultV2): APIGatewayProxyStructuredResultV2 => ({ ...r, headers: { ...r.headers, [SERVER_TIMING_HEADER]: formatServerTiming(performance.now() - started) } });
    let owner: string | undefined;
    try {
      const caller = ownerOf(event);
      owner = caller;
      const result = await traced(route, { route }, () => logic({ event, owner: caller, deps: getDeps() }));
      return timed(json(result.status, result.body));
    } catch (e) {
      const error = toApiError(e);
      const fields = { route, owner, status: error.status, code: error.code, session_id: event.pathParameters?.session_id };
      if (error.status >= 500) logger.error('request failed', { ...fields, error: e as Error });
      else logger.info('request rejected', { ...fields, reason: error.message });
      return timed(errorResponse(error));
    } finally {
      flushMetrics();
    }
  };
}
