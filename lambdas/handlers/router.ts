/**
 * Lambda entry of the Function URL variant (`-c api=function-url`, LocalStack's free plan): one
 * function serves every route of the route table, dispatching to the same handler modules the
 * HTTP API variant deploys one by one. A Function URL delivers HTTP API payload 2.0 events.
 */
export { handler } from '../http/router.js';
