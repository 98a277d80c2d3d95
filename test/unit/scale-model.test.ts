/**
 * docs/scale.md against ops/scale-model.ts, and the model against the code: the doc's tables are
 * exactly what the model renders, the numbers its prose quotes are the model's, and the model's
 * inputs are the constants of the code it describes.
 */
import { readFileSync } from 'node:fs';
import { API_LIMITS, DEFAULTS, GiB, MiB, S3_LIMITS, TiB } from '../../contract/limits.js';
import { countParts, defaultChunkSize } from '../../contract/parts.js';
import { CONFLICT_ATTEMPTS } from '../../lambdas/aws/dynamo.js';
import { TABLE } from '../../lambdas/aws/table-definition.js';
import { DEFAULT_AUTH_CACHE_TTL_SECONDS } from '../../lambdas/http/authorization.js';
import { DEFAULT_SETTINGS, resolveSettings, settingsFromContext } from '../../lib/settings.js';
import { SCALE_DOC, blockNames, renderScaleDoc } from '../../ops/scale-doc.js';
import {
  AWS_LIMITS,
  BOTTLENECK_FILES,
  FILES,
  RATES,
  GSI_WRITES,
  TRANSACTIONAL,
  WRU,
  firstBottleneck,
  limitsAt,
  renderedBlocks,
  settingsFor,
  uploadDemand,
  type FileCase,
} from '../../ops/scale-model.js';

const doc = readFileSync(SCALE_DOC, 'utf8');
const file = (label: string): FileCase => FILES.find((f) => f.label === label)!;
const gib = uploadDemand(file('1 GiB'));
const mib = uploadDemand(file('1 MiB'));
const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });

describe('docs/scale.md is what the model renders', () => {
  test('every table block is current (npx tsx ops/scale-doc.ts rewrites them)', () => {
    expect(renderScaleDoc(doc)).toBe(doc);
  });

  test('each of the model\'s tables is in the doc once, and the doc names no other', () => {
    expect([...blockNames(doc)].sort()).toEqual(Object.keys(renderedBlocks()).sort());
  });

  test('a changed number in a table is caught', () => {
    const tampered = doc.replace('| part size (default) / parts | 5 MiB / 1 |', '| part size (default) / parts | 5 MiB / 2 |');
    expect(tampered).not.toBe(doc);
    expect(renderScaleDoc(tampered)).toBe(doc);
  });

  test('an unknown block name is an error, not a silently kept table', () => {
    expect(() => renderScaleDoc('<!-- scale-model:nope -->\n| x |\n<!-- /scale-model -->')).toThrow(/nope/);
  });
});

describe('the numbers the prose quotes are the model\'s', () => {
  const perSecond = (u: typeof gib, rate: number) => ({ writes: rate * u.s3.writes, wru: rate * u.ddb.wru, open: rate * u.seconds });

  test('1,000 concurrent 1 GiB uploads: over the stage throttle, near one S3 partition', () => {
    const rate = 1000 / gib.seconds;
    expect(rate * gib.apiCalls).toBeGreaterThan(DEFAULT_SETTINGS.throttleRateLimit);
    expect(doc).toContain(`1,000 concurrent 1 GiB uploads make ${Math.floor(rate * gib.apiCalls)} API requests per second`);
    expect(Math.round((rate * gib.s3.writes) / 1000) * 1000).toBe(3000);
    expect(rate * gib.s3.writes).toBeGreaterThan(0.8 * AWS_LIMITS.s3WritesPerPrefix);
    expect(doc).toContain('about 3,000 S3 writes per second');
  });

  test('10 uploads/s: the stage throttle is the nearest limit with many owners, all of it at the bound; one owner meets its session cap', () => {
    expect(firstBottleneck(limitsAt(file('1 GiB'), 10, 'many')).name).toMatch(/^API stage throttle/);
    expect(10 * gib.apiCalls).toBeLessThan(DEFAULT_SETTINGS.throttleRateLimit);
    expect(10 * gib.apiCallsBound).toBe(DEFAULT_SETTINGS.throttleRateLimit);
    expect(doc).toContain(`makes ${gib.apiCalls} calls when its`);
    expect(doc).toContain(`up to its bound of ${gib.apiCallsBound} when`);
    const set = settingsFor(file('1 GiB'), 10);
    expect(doc).toContain(`-c\nthrottleRateLimit=${set.throttleRateLimit} -c throttleBurstLimit=${set.throttleBurstLimit}\``);
    expect(firstBottleneck(limitsAt(file('1 GiB'), 10, 'one')).name).toMatch(/^open sessions per owner/);
    expect(doc).toContain(`stays open about ${Math.floor(gib.seconds)} s`);
    expect(doc).toContain(`hold over ${Math.floor(perSecond(gib, 10).open / 100) * 100} sessions`);
  });

  test('100 uploads/s: S3 writes under uploads/, partitions, the session cap and the owner item', () => {
    const w = perSecond(gib, 100).writes;
    expect(doc).toContain(`about ${n(w)}\nwrites per second`);
    expect(Math.ceil(w / AWS_LIMITS.s3WritesPerPrefix)).toBe(4);
    expect(doc).toContain("four partitions' worth");
    expect(Math.floor(perSecond(gib, 100).open / DEFAULTS.maxOpenSessionsPerOwner / 10) * 10).toBe(40);
    expect(doc).toContain('more than 40 times over');
    expect(doc).toContain(`takes ${n(100 * gib.ddb.ownerItemWrites * TRANSACTIONAL)} WRU/s of transactions`);
    expect(mib.s3.writes * 100).toBeLessThan(AWS_LIMITS.s3WritesPerPrefix / 10);
  });

  test('1,000 uploads/s: the account throttle holds, DynamoDB over a new table, S3 partitions and bytes, Lambda, the owner item', () => {
    expect(1000 * gib.apiCallsBound).toBeLessThanOrEqual(AWS_LIMITS.apiGatewayAccountRps);
    expect(doc).toContain(`${gib.ddb.wru} WRU per upload make ${n(perSecond(gib, 1000).wru)} WRU/s`);
    expect(doc).toContain(`${(perSecond(gib, 1000).wru / AWS_LIMITS.ddbNewTableWru).toFixed(1)} times what a new on-demand table`);
    expect(perSecond(gib, 1000).wru).toBeLessThan(AWS_LIMITS.ddbOnDemandTableWru);
    expect(doc).toContain(`about ${Math.round(perSecond(gib, 1000).writes / AWS_LIMITS.s3WritesPerPrefix)} partitions`);
    expect(doc).toContain(`${n(perSecond(gib, 1000).writes)} writes per second`);
    expect(Math.round((1000 * gib.size) / TiB)).toBe(1);
    expect(doc).toContain(`S3 is at ${Math.round(((1000 * mib.s3.writes) / AWS_LIMITS.s3WritesPerPrefix) * 100)} % of one partition`);
    expect(Math.max(1000 * gib.lambdaSeconds, 1000 * mib.lambdaSeconds)).toBeLessThan(AWS_LIMITS.lambdaAccountConcurrency / 5);
    expect(doc).toContain('below a fifth of the default 1,000');
    expect(doc).toContain(`would need ${n(1000 * gib.ddb.ownerItemWrites * TRANSACTIONAL)} WRU/s on one partition`);
  });

  test('the limits section: constants of the code', () => {
    expect(doc).toContain(`\`throttleRateLimit\` ${DEFAULT_SETTINGS.throttleRateLimit} req/s, \`throttleBurstLimit\` ${DEFAULT_SETTINGS.throttleBurstLimit}`);
    expect(doc).toContain(`\`maxOpenSessionsPerOwner\` ${DEFAULTS.maxOpenSessionsPerOwner}`);
    expect(doc).toContain(`(${DEFAULT_AUTH_CACHE_TTL_SECONDS} s by default)`);
    expect(doc).toContain(`up\n  to ${CONFLICT_ATTEMPTS} times with backoff`);
    expect(doc).toContain(`keyed by ${TABLE.openSessionsIndex.shards} shard keys (\`open#0..${TABLE.openSessionsIndex.shards - 1}\``);
    expect(doc).toContain(`${GSI_WRITES} index writes per upload`);
    expect(doc).toContain(`(1,000 WRU/s, ${AWS_LIMITS.ddbPartitionWru / (gib.ddb.ownerItemWrites * TRANSACTIONAL)} uploads/s at ${gib.ddb.ownerItemWrites * TRANSACTIONAL} WRU each)`);
    expect(doc).toContain(`init ${WRU.init} WRU,\ncompleting ${WRU.completing}, completed ${WRU.completed}`);
    expect(doc).toContain(`first\n${API_LIMITS.initialUrlCount} parts`);
    expect(doc).toContain(`up to ${API_LIMITS.maxUrlsPerRequest} URLs`);
  });

  test('each AWS quota the model uses names its documentation page in the doc', () => {
    for (const page of [
      'Amazon API Gateway quotas',
      'Lambda quotas',
      'Lambda scaling behavior',
      'Best practices design patterns: optimizing Amazon S3 performance',
      'Quotas in Amazon DynamoDB',
      'DynamoDB on-demand capacity mode',
    ]) {
      expect(doc).toContain(`"${page}"`);
    }
    expect(doc).toContain(`${n(AWS_LIMITS.apiGatewayAccountRps)} req/s, burst ${n(AWS_LIMITS.apiGatewayAccountBurst)}`);
    expect(doc).toContain(`${n(AWS_LIMITS.lambdaAccountConcurrency)} executions at once`);
    expect(doc).toContain(`${n(AWS_LIMITS.s3WritesPerPrefix)} PUT/COPY/POST/DELETE and ${n(AWS_LIMITS.s3ReadsPerPrefix)} GET/HEAD`);
    expect(doc).toContain(`${n(AWS_LIMITS.ddbPartitionRru)} RRU and ${n(AWS_LIMITS.ddbPartitionWru)} WRU per second`);
    expect(doc).toContain(`serves ${n(AWS_LIMITS.ddbNewTableWru)} WRU`);
  });
});

describe('the model follows the code', () => {
  test('parts: the default part size, 128 parts of 8 MiB for 1 GiB, within S3\'s 10,000 for 100 GiB', () => {
    expect(gib.parts).toBe(128);
    expect(gib.chunkSize).toBe(DEFAULTS.largeFileChunkSize);
    for (const f of FILES) {
      const u = uploadDemand(f);
      expect(u.parts).toBe(countParts(f.size, defaultChunkSize(f.size)));
      expect(u.parts).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    }
    expect(uploadDemand(file('100 GiB')).chunkSize).toBeGreaterThan(10 * MiB);
  });

  test('API calls: init carries the first 100 URLs, /parts batches of 500, complete; never above the issue\'s bound', () => {
    for (const f of FILES) {
      const u = uploadDemand(f);
      expect(u.apiCalls).toBe(2 + Math.ceil(Math.max(0, u.parts - API_LIMITS.initialUrlCount) / API_LIMITS.maxUrlsPerRequest));
      expect(u.apiCalls).toBeLessThanOrEqual(Math.ceil(u.parts / 100) + 3);
      expect(u.apiCallsBound).toBe(Math.ceil(u.parts / 100) + 3);
    }
    expect(gib.apiCalls).toBe(3);
    expect(mib.apiCalls).toBe(2);
  });

  test('S3 requests: Create, one UploadPart per part, Complete; ListParts per 1,000 parts', () => {
    const big = uploadDemand({ label: 'x', size: 100 * GiB });
    expect(big.s3).toEqual({ writes: big.parts + 2, reads: Math.ceil(big.parts / 1000) });
  });

  test('DynamoDB: the WRU of the transactions the store writes, reads per /parts and complete', () => {
    expect(WRU.init).toBe(3 * TRANSACTIONAL + 1);
    expect(gib.ddb.wru).toBe(WRU.init + WRU.completing + WRU.completed);
    expect(gib.ddb.rru).toBe(gib.partsCalls + 2);
  });

  test('rates scale linearly; the first bottleneck is the limit furthest over', () => {
    const at10 = limitsAt(file('1 GiB'), 10, 'many');
    const at100 = limitsAt(file('1 GiB'), 100, 'many');
    for (const [i, u] of at10.entries()) expect(at100[i]!.demand).toBeCloseTo(u.demand * 10, 6);
    const first = firstBottleneck(at100);
    for (const u of at100) expect(first.demand / first.limit).toBeGreaterThanOrEqual(u.demand / u.limit);
  });

  test('the settings the doc recommends pass the stack\'s own validation', () => {
    for (const rate of RATES) {
      for (const f of BOTTLENECK_FILES) {
        const s = settingsFor(f, rate);
        expect(s.throttleRateLimit).toBeLessThanOrEqual(10_000);
        expect(s.throttleBurstLimit).toBeLessThanOrEqual(5_000);
        expect(s.throttleRateLimit).toBeGreaterThanOrEqual(rate * uploadDemand(f).apiCallsBound);
        expect(() => resolveSettings(s)).not.toThrow();
        expect(settingsFromContext((k) => (s as Record<string, unknown>)[k] as string | undefined)).toMatchObject(s);
      }
    }
  });
});
