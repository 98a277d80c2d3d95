import { MockAgent } from 'undici';
import { ApiClient } from '../../client/api-client.js';
import type { InitResponse } from '../../contract/api.js';

const INIT: InitResponse = {
  session_id: 'S'.repeat(22), total_parts: 1, chunk_size: 5 * 1048576, expires_at: '2026-01-02T00:00:00.000Z', url_expires_in: 900, parts: [],
};

/** A request header as MockAgent hands it over (an object, or a flat [name, value, ...] list). */
function headerOf(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    return undefined;
  }
  for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) if (k.toLowerCase() === name) return String(v);
  return undefined;
}

function api() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const pool = agent.get('http://api.test');
  const client = new ApiClient({ baseUrl: 'http://api.test', dispatcher: agent, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } });
  return { agent, pool, client };
}

test('init sends one Idempotency-Key, the same on every retry of that call, and a new one per call', async () => {
  const { agent, pool, client } = api();
  const keys: (string | undefined)[] = [];
  /** Answers `status` with `data`, noting the request's Idempotency-Key. */
  const answer = (statusCode: number, data: object) => (req: { headers?: unknown }) => {
    keys.push(headerOf(req.headers, 'idempotency-key'));
    return { statusCode, data };
  };
  // The first answers are lost or failed (a 502 from the gateway, a 503), the third is the session.
  pool.intercept({ path: '/upload/init', method: 'POST' }).reply(answer(502, { message: 'Internal Server Error' }));
  pool.intercept({ path: '/upload/init', method: 'POST' }).reply(answer(503, { error: 'storage_error', message: 'retry' }));
  pool.intercept({ path: '/upload/init', method: 'POST' }).reply(answer(201, INIT));
  expect(await client.init({ filename: 'a.bin', file_size: 1 })).toEqual(INIT);
  expect(keys).toHaveLength(3);
  expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(new Set(keys).size).toBe(1);

  // Another logical init (another file, or the same one again) is another key.
  pool.intercept({ path: '/upload/init', method: 'POST' }).reply(answer(201, INIT));
  await client.init({ filename: 'a.bin', file_size: 1 });
  expect(keys).toHaveLength(4);
  expect(keys[3]).not.toBe(keys[0]);
  await agent.close();
});

test('other calls send no Idempotency-Key', async () => {
  const { agent, pool, client } = api();
  let key: string | undefined = 'not called';
  pool.intercept({ path: `/upload/${'S'.repeat(22)}/status`, method: 'GET' }).reply((req: { headers?: unknown }) => {
    key = headerOf(req.headers, 'idempotency-key');
    return { statusCode: 200, data: { session_id: 'S'.repeat(22) } };
  });
  await client.status('S'.repeat(22));
  expect(key).toBeUndefined();
  await agent.close();
});
