import { completeRequestSchema } from '../../contract/api.js';
import { parseBody } from '../core/validation.js';
import { httpHandler } from '../http/handler.js';
import { jsonBody, sessionIdOf } from '../http/request.js';
import { completeUpload } from '../service/uploads.js';

export const handler = httpHandler('complete', async ({ event, owner, deps }) => {
  const sessionId = sessionIdOf(event);
  const req = parseBody(completeRequestSchema, jsonBody(event));
  return { status: 200, body: await completeUpload(deps, owner, sessionId, req) };
});
