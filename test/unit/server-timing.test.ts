import { formatServerTiming, serverDurationMs } from '../../contract/server-timing.js';
import { networkPart } from '../../client/api-core.js';

test('the API states its own time as Server-Timing app;dur=..., which the client reads back', () => {
  expect(formatServerTiming(12.345)).toBe('app;dur=12.3');
  expect(formatServerTiming(-1)).toBe('app;dur=0.0');
  expect(serverDurationMs(formatServerTiming(41.06))).toBe(41.1);
  // Other metrics beside it (a CDN, API Gateway) and quoted values are W3C syntax too.
  expect(serverDurationMs('edge;dur=3, app;desc="handler";dur="7.5"')).toBe(7.5);
  for (const h of [undefined, '', 'app', 'app;dur=', 'app;dur=abc', 'db;dur=5', 'application;dur=5']) expect(serverDurationMs(h)).toBeUndefined();
});

test("the network's share of a wait is what the server did not spend, never negative, unknown without both", () => {
  expect(networkPart(80, 60)).toBe(20);
  expect(networkPart(50, 60)).toBe(0);
  expect(networkPart(undefined, 60)).toBeUndefined();
  expect(networkPart(80, undefined)).toBeUndefined();
});
