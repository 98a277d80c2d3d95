import { partUrlRequestSchema } from '../../contract/api.js';
import { parseBody } from '../core/validation.js';
import { httpHandler } from '../http/handler.js';
import { jsonBody, sessionIdOf } from '../http/request.js';
import { presignParts } from '../service/uploads.js';

export const handler = httpHandler('parts', async ({ event, owner, deps }) => {
  const sessionId = sessionIdOf(event);
  const req = parseBody(partUrlRequestSchema, jsonBody(event));
  return { status: 200, body: await presignParts(deps, owner, sessionId, req) };
});
