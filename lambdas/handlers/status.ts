import { httpHandler } from '../http/handler.js';
import { sessionIdOf } from '../http/request.js';
import { getStatus } from '../service/uploads.js';

export const handler = httpHandler('status', async ({ event, owner, deps }) => ({
  status: 200,
  body: await getStatus(deps, owner, sessionIdOf(event)),
}));
