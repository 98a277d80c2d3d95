import { httpHandler } from '../http/handler.js';
import { sessionIdOf } from '../http/request.js';
import { abortUpload } from '../service/uploads.js';

export const handler = httpHandler('abort', async ({ event, owner, deps }) => ({
  status: 200,
  body: await abortUpload(deps, owner, sessionIdOf(event)),
}));
