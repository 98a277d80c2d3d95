import { ApiClient } from '../../client/api-client.js';
import { createPool } from '../../client/http.js';
import type { InitResponse } from '../../contract/api.js';
import { scriptedServer, type Answer, type SeenRequest } from './helpers/scripted-http.js';

const INIT: InitResponse = {
  session_id: 'S'.repeat(22), total_parts: 1, chunk_size: 5 * 1048576, expires_at: '2026-01-02T00:00:00.000Z', url_expires_in: 900, parts: [],
};

async function api(answer: (req: SeenRequest, n: number) => Answer) {
  const server = await scriptedServer(answer);
  const pool = createPool({ connections: 2 });
  const client = new ApiClient({ baseUrl: server.url, pool, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 } });
  return { server, client, close: async () => (await pool.close(), await server.close()) };
}

const json = (status: number, data: object): Answer => ({ status, body: JSON.stringify(data), headers: { 'content-type': 'application/json' } });

test('init sends one Idempotency-Key, the same on every retry of that call, and a new one per call', async () => {
  // The first answers are lost or failed (a 502 from the gateway, a 503), the third is the session.
  const { server, client, close } = await api((_req, n) =>
    n === 1 ? json(502, { message: 'Internal Server Error' }) : n === 2 ? json(503, { error: 'storage_error', message: 'retry' }) : json(201, INIT),
  );
  try {
    expect(await client.init({ filename: 'a.bin', file_size: 1 })).toEqual(INIT);
    const keys = () => server.requests.map((r) => r.headers['idempotency-key']);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual(Array(3).fill('POST /upload/init'));
    expect(keys()[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys()).size).toBe(1);

    // Another logical init (another file, or the same one again) is another key.
    await client.init({ filename: 'a.bin', file_size: 1 });
    expect(keys()).toHaveLength(4);
    expect(keys()[3]).not.toBe(keys()[0]);
  } finally {
    await close();
  }
});

test('other calls send no Idempotency-Key', async () => {
  const { server, client, close } = await api(() => json(200, { session_id: 'S'.repeat(22) }));
  try {
    await client.status('S'.repeat(22));
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET /upload/${'S'.repeat(22)}/status`]);
    expect(server.requests[0]!.headers['idempotency-key']).toBeUndefined();
  } finally {
    await close();
  }
});

test("a 401 names its cause: no token sent, or a sent token refused with the authorizer's reason (www-authenticate)", async () => {
  const refusal: Answer = {
    status: 401,
    body: JSON.stringify({ message: 'Unauthorized' }),
    headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token" error_description="the token has expired"' },
  };
  const server = await scriptedServer(() => refusal);
  const pool = createPool({ connections: 1 });
  try {
    const anonymous = new ApiClient({ baseUrl: server.url, pool });
    await expect(anonymous.status('S'.repeat(22))).rejects.toThrow(/the API needs a token: pass --token/);
    const withToken = new ApiClient({ baseUrl: server.url, pool, token: 'eyJ.a.b' });
    await expect(withToken.status('S'.repeat(22))).rejects.toThrow(/the API refused the token: the token has expired \(a JWT/);
  } finally {
    await pool.close();
    await server.close();
  }
});

test("the network's round trip: the shortest wait for an answer less the API's Server-Timing, none without that header", async () => {
  // 60 ms of "server time" reported, 80 ms waited: 20 ms of network (here a delay the header does not claim).
  const { client, close } = await api((_req, n) => ({
    ...json(200, { session_id: 'S'.repeat(22) }),
    delayMs: n === 1 ? 200 : 80,
    headers: { 'content-type': 'application/json', 'server-timing': n === 3 ? 'db;dur=5' : 'cache;desc="hit", app;dur=60' },
  }));
  try {
    expect(client.networkRttMs).toBeUndefined();
    await client.status('S'.repeat(22));
    // The first answer came after 200 ms with 60 claimed: 140 ms, an upper bound.
    expect(client.networkRttMs).toBeGreaterThanOrEqual(139);
    await client.status('S'.repeat(22));
    expect(client.networkRttMs).toBeGreaterThanOrEqual(19);
    expect(client.networkRttMs).toBeLessThan(120);
    const second = client.networkRttMs;
    // No `app` metric (another server, a proxy's header): nothing learned, the minimum stays.
    await client.status('S'.repeat(22));
    expect(client.networkRttMs).toBe(second);
  } finally {
    await close();
  }
});
