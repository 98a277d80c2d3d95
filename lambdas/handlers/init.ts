import { httpHandler } from '../http/handler.js';
import { idempotencyKeyOf, jsonBody } from '../http/request.js';
import { initUpload } from '../service/uploads.js';

export const handler = httpHandler('init', async ({ event, owner, deps }) => ({
  status: 201,
  body: await initUpload(deps, owner, jsonBody(event), { idempotencyKey: idempotencyKeyOf(event) }),
}));
