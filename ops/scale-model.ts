/**
 * The scale model of docs/scale.md, on paper: what one upload costs the API, Lambda, DynamoDB
 * and S3, what a rate of uploads demands of each, and which quota gives first. Pure: every input
 * is a constant of the code (contract/limits.ts, contract/parts.ts, lib/settings.ts defaults,
 * the store's transactions), a published AWS quota (named with its documentation page), or a
 * stated assumption. ops/scale-doc.ts renders the doc's tables from it; test/unit/scale-model.test.ts
 * keeps the doc equal to them.
 *
 * Calls per upload, from the code (no retries):
 *   client   POST /upload/init (answers URLs for parts 1..API_LIMITS.initialUrlCount)
 *            POST /upload/{id}/parts for the rest, up to API_LIMITS.maxUrlsPerRequest per call
 *            POST /upload/{id}/complete; a resume adds GET /upload/{id}/status
 *   init     S3 CreateMultipartUpload; one TransactWriteItems (lambdas/aws/session-store.ts create):
 *            owner count +1, session row, Idempotency-Key item (the CLI sends one)
 *   parts    GetItem (consistent)
 *   complete GetItem; S3 ListParts per 1,000 parts; UpdateItem (to completing); S3
 *            CompleteMultipartUpload; TransactWriteItems: the row to completed, owner count -1
 *   authorizer GetItem (consistent) on the tokens table per invocation; API Gateway caches its
 *            answer per Authorization value for authCacheTtlSeconds
 */
import { API_LIMITS, DEFAULTS, GiB, MiB, S3_LIMITS } from '../contract/limits.js';
import { countParts, defaultChunkSize } from '../contract/parts.js';
import { DEFAULT_SETTINGS } from '../lib/settings.js';
import { TABLE } from '../lambdas/aws/table-definition.js';

/** The AWS quotas the model checks, each with the page it comes from. */
export const AWS_LIMITS = {
  /** "Amazon API Gateway quotas": per account and Region (some Regions 2,500); adjustable. */
  apiGatewayAccountRps: 10_000,
  apiGatewayAccountBurst: 5_000,
  /** "Lambda quotas": concurrent executions per account and Region; adjustable. */
  lambdaAccountConcurrency: 1_000,
  /** "Lambda scaling behavior": new execution environments per function, per 10 s. */
  lambdaScalingPer10s: 1_000,
  /** "Best practices design patterns: optimizing Amazon S3 performance": per partitioned prefix. */
  s3WritesPerPrefix: 3_500,
  s3ReadsPerPrefix: 5_500,
  /** "Quotas in Amazon DynamoDB": per partition (an item lives in one), and per on-demand table. */
  ddbPartitionWru: 1_000,
  ddbPartitionRru: 3_000,
  ddbOnDemandTableWru: 40_000,
  ddbOnDemandTableRru: 40_000,
  /** "On-demand capacity mode": what a new on-demand table serves at once (it doubles within 30 min). */
  ddbNewTableWru: 4_000,
} as const;

/**
 * Warm durations on the local cloud, medians in ms (ops/scale-measure.ts, 40 rounds, 2026-12-01,
 * 2 cores shared with other test runs at load 6-11; an earlier run of 25 rounds was within 10 ms
 * of each). Each route's time is at the client: gateway + authorizer (the local cache is off) +
 * handler; `authorizer` is a call the authorizer refuses (gateway + authorizer alone). A handler
 * holds its environment for about its route's time minus the authorizer's. DynamoDB Local sits
 * behind the IAM front, S3 is RGW; on AWS, with both in the Region, expect shorter times: the
 * model's Lambda concurrency is an upper estimate.
 */
export const MEASURED_MS = { init: 58, parts: 55, status: 24, complete: 104, abort: 46, authorizer: 9 } as const;
export type Durations = Record<keyof typeof MEASURED_MS, number>;

/** Stated assumptions (docs/scale.md says them next to the tables). */
export const ASSUMPTIONS = {
  /** Throughput of one upload, client to S3 (a 200 Mbit/s uplink). */
  clientBytesPerSecond: 25 * MiB,
  /** Per upload besides its bytes: init, complete and a part's round trips. */
  fixedSeconds: 0.5,
  /** DynamoDB items here are < 1 KB: 1 WRU per write, 1 RRU per consistent read (< 4 KB). */
  itemWru: 1,
} as const;

export interface FileCase {
  readonly label: string;
  readonly size: number;
}

export const FILES: readonly FileCase[] = [
  { label: '1 MiB', size: 1 * MiB },
  { label: '64 MiB', size: 64 * MiB },
  { label: '1 GiB', size: 1 * GiB },
  { label: '100 GiB', size: 100 * GiB },
];

export interface UploadDemand {
  readonly label: string;
  readonly size: number;
  readonly chunkSize: number;
  readonly parts: number;
  /** API calls of an upload that is not resumed: init, /parts in full batches, complete. */
  readonly apiCalls: number;
  readonly partsCalls: number;
  /** The issue's bound for any upload: ceil(parts/100) + 3 (smaller batches, re-signing). */
  readonly apiCallsBound: number;
  /** Lambda invocations: one per API call, plus the authorizer (cached: one per token and TTL). */
  readonly authorizerCached: number;
  readonly authorizerUncached: number;
  readonly ddb: { wru: number; rru: number; requests: number; ownerItemWrites: number };
  readonly s3: { writes: number; reads: number };
  /** Seconds one upload takes at ASSUMPTIONS.clientBytesPerSecond. */
  readonly seconds: number;
  /** Lambda-seconds per upload (handlers + cached authorizer), at MEASURED_MS. */
  readonly lambdaSeconds: number;
}

/** A write inside TransactWriteItems costs twice a standard write (prepare and commit). */
export const TRANSACTIONAL = 2;

/**
 * WRU of an upload. A transaction writes each item twice (prepare, commit); the sparse
 * open-sessions GSI (projection ALL) is written at the standard rate whenever the row's indexed
 * copy changes: created at init, rewritten at completing, deleted at completed.
 */
export const WRU = {
  init: TRANSACTIONAL /* owner count */ + TRANSACTIONAL /* session row */ + 1 /* GSI insert */ + TRANSACTIONAL /* Idempotency-Key */,
  completing: 1 /* row */ + 1 /* GSI rewrite */,
  completed: TRANSACTIONAL /* row */ + 1 /* GSI delete */ + TRANSACTIONAL /* owner count */,
} as const;

/** Writes of one upload to the open-sessions index (insert, rewrite, delete), over its shard keys. */
export const GSI_WRITES = 3;

export function uploadDemand(file: FileCase, measured: Durations = MEASURED_MS): UploadDemand {
  const chunkSize = defaultChunkSize(file.size);
  const parts = countParts(file.size, chunkSize);
  const partsCalls = Math.ceil(Math.max(0, parts - API_LIMITS.initialUrlCount) / API_LIMITS.maxUrlsPerRequest);
  const apiCalls = 1 + partsCalls + 1;
  const listPages = Math.ceil(parts / S3_LIMITS.listPartsPageSize);
  const seconds = file.size / ASSUMPTIONS.clientBytesPerSecond + ASSUMPTIONS.fixedSeconds;
  // Handlers: their route's time without the authorizer's; plus one (cached) authorizer invocation.
  const handler = (route: 'init' | 'parts' | 'complete') => Math.max(0, measured[route] - measured.authorizer);
  const lambdaMs = handler('init') + partsCalls * handler('parts') + handler('complete') + measured.authorizer;
  return {
    label: file.label,
    size: file.size,
    chunkSize,
    parts,
    apiCalls,
    partsCalls,
    apiCallsBound: Math.ceil(parts / 100) + 3,
    authorizerCached: 1,
    authorizerUncached: apiCalls,
    ddb: {
      wru: (WRU.init + WRU.completing + WRU.completed) * ASSUMPTIONS.itemWru,
      // /parts and complete read the row; the authorizer (cached) reads the token once.
      rru: partsCalls + 1 + 1,
      requests: 1 /* init transaction */ + partsCalls + 3 /* complete: get, update, transaction */ + 1 /* authorizer */,
      ownerItemWrites: 2,
    },
    s3: { writes: 1 + parts + 1, reads: listPages },
    seconds,
    lambdaSeconds: lambdaMs / 1000,
  };
}

/** One limit at a rate of uploads: what is asked of it and what it allows. */
export interface LimitUse {
  readonly name: string;
  readonly demand: number;
  readonly limit: number;
  readonly unit: string;
  /** What to change when it is the bottleneck. */
  readonly remedy: string;
}

export type Owners = 'many' | 'one';

/**
 * Demand on every limit at `perSecond` uploads of `file`. `owners`: many (each upload's caller is
 * its own owner, e.g. a web app with a JWT per user) or one (a single token uploads everything).
 */
export function limitsAt(file: FileCase, perSecond: number, owners: Owners, measured: Durations = MEASURED_MS): LimitUse[] {
  const u = uploadDemand(file, measured);
  const s = DEFAULT_SETTINGS;
  const uses: LimitUse[] = [
    {
      name: 'API stage throttle (throttleRateLimit)',
      demand: perSecond * u.apiCalls,
      limit: s.throttleRateLimit,
      unit: 'req/s',
      remedy: '-c throttleRateLimit / throttleBurstLimit',
    },
    {
      name: 'API Gateway account throttle',
      demand: perSecond * u.apiCalls,
      limit: AWS_LIMITS.apiGatewayAccountRps,
      unit: 'req/s',
      remedy: 'Service Quotas increase',
    },
    {
      name: 'Lambda concurrency (account)',
      demand: perSecond * u.lambdaSeconds,
      limit: AWS_LIMITS.lambdaAccountConcurrency,
      unit: 'environments',
      remedy: 'Service Quotas increase',
    },
    {
      name: 'S3 writes per prefix (uploads/)',
      demand: perSecond * u.s3.writes,
      limit: AWS_LIMITS.s3WritesPerPrefix,
      unit: 'req/s',
      remedy: 'S3 partitions the random session ids under uploads/ itself (503 SlowDown while it does); ramp up, or ask AWS to pre-partition',
    },
    {
      // lambdas/service/uploads.ts openShardOf: open#0..open#(shards-1), each key one index partition.
      name: `open-sessions index, per shard key (${TABLE.openSessionsIndex.shards} keys)`,
      demand: (perSecond * GSI_WRITES) / TABLE.openSessionsIndex.shards,
      limit: AWS_LIMITS.ddbPartitionWru,
      unit: 'WRU/s',
      remedy: 'more shards (TABLE.openSessionsIndex.shards; the sweeper reads them all)',
    },
    {
      name: 'DynamoDB table writes (new on-demand table)',
      demand: perSecond * u.ddb.wru,
      limit: AWS_LIMITS.ddbNewTableWru,
      unit: 'WRU/s',
      remedy: 'ramp up (on-demand doubles its previous peak within 30 min) or pre-warm (warm throughput)',
    },
  ];
  if (owners === 'one') {
    uses.push(
      {
        name: 'open sessions per owner (maxOpenSessionsPerOwner)',
        demand: perSecond * u.seconds,
        limit: DEFAULTS.maxOpenSessionsPerOwner,
        unit: 'sessions',
        remedy: '-c maxOpenSessionsPerOwner, or a token (owner) per client',
      },
      {
        name: "the owner's count item (one partition)",
        demand: perSecond * u.ddb.ownerItemWrites * TRANSACTIONAL,
        limit: AWS_LIMITS.ddbPartitionWru,
        unit: 'WRU/s',
        remedy: 'more owners; conflicts between concurrent transactions on the item come well before this',
      },
    );
  }
  return uses;
}

/** The limit that gives first: the highest demand/limit. */
export function firstBottleneck(uses: readonly LimitUse[]): LimitUse {
  return [...uses].sort((a, b) => b.demand / b.limit - a.demand / a.limit)[0]!;
}

/** Uploads per second the default stage throttle admits for `file` (its API calls only). */
export function uploadsPerSecondAtStageThrottle(file: FileCase): number {
  return DEFAULT_SETTINGS.throttleRateLimit / uploadDemand(file).apiCalls;
}

// --- rendering (docs/scale.md) ---------------------------------------------------------------

const n = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const size = (b: number) => (b >= GiB ? `${n(b / GiB, 1)} GiB` : `${n(b / MiB, 1)} MiB`);

export function perUploadTable(): string {
  const rows = FILES.map((f) => uploadDemand(f));
  const head = ['', ...rows.map((r) => r.label)];
  const line = (label: string, f: (r: UploadDemand) => string) => `| ${label} | ${rows.map(f).join(' | ')} |`;
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    line('part size (default) / parts', (r) => `${size(r.chunkSize)} / ${n(r.parts)}`),
    line('API calls: init + /parts + complete', (r) => `1 + ${r.partsCalls} + 1 = ${r.apiCalls}`),
    line('API calls, bound ceil(parts/100) + 3', (r) => n(r.apiCallsBound)),
    line('Lambda invocations (handlers + authorizer cached / uncached)', (r) => `${r.apiCalls} + ${r.authorizerCached} / ${r.apiCalls} + ${r.authorizerUncached}`),
    line('Lambda-seconds (measured local durations)', (r) => n(r.lambdaSeconds, 2)),
    line('DynamoDB WRU / RRU / requests', (r) => `${r.ddb.wru} / ${r.ddb.rru} / ${r.ddb.requests}`),
    line("writes to the owner's count item", (r) => n(r.ddb.ownerItemWrites)),
    line('S3 writes (Create + UploadPart + Complete) / reads (ListParts)', (r) => `${n(r.s3.writes)} / ${n(r.s3.reads)}`),
    line('duration at 25 MiB/s (+0.5 s)', (r) => `${n(r.seconds, 1)} s`),
  ].join('\n');
}

/** Per 1,000 uploads in flight at once: the rates they make (Little's law: rate = 1,000 / duration). */
export function perThousandConcurrentTable(): string {
  const rows = FILES.map((f) => {
    const u = uploadDemand(f);
    const rate = 1000 / u.seconds;
    return { u, rate };
  });
  const head = ['1,000 concurrent uploads of', ...rows.map((r) => r.u.label)];
  const line = (label: string, f: (r: { u: UploadDemand; rate: number }) => string) => `| ${label} | ${rows.map(f).join(' | ')} |`;
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    line('uploads started per second', (r) => n(r.rate, 1)),
    line('API requests per second', (r) => n(r.rate * r.u.apiCalls, 1)),
    line('Lambda concurrency (handlers + authorizer)', (r) => n(r.rate * r.u.lambdaSeconds, 1)),
    line('DynamoDB WRU/s / RRU/s', (r) => `${n(r.rate * r.u.ddb.wru, 0)} / ${n(r.rate * r.u.ddb.rru, 0)}`),
    line('S3 writes/s / reads/s', (r) => `${n(r.rate * r.u.s3.writes, 0)} / ${n(r.rate * r.u.s3.reads, 1)}`),
    line('bytes into S3 per second', (r) => `${n((r.rate * r.u.size) / GiB, 1)} GiB/s`),
  ].join('\n');
}

export const RATES = [10, 100, 1000] as const;
export const BOTTLENECK_FILES: readonly FileCase[] = [FILES[0]!, FILES[2]!];

/** Per rate and file, for many owners and for one: the first limit to give, and what else is over. */
export function bottleneckTable(): string {
  const head = ['uploads/s', 'file', 'owners', 'first bottleneck: demand / limit', 'also over their limit', 'change first'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  const ratio = (u: LimitUse) => u.demand / u.limit;
  for (const rate of RATES) {
    for (const file of BOTTLENECK_FILES) {
      for (const owners of ['many', 'one'] as const) {
        const uses = limitsAt(file, rate, owners);
        const b = firstBottleneck(uses);
        const over = uses.filter((u) => u !== b && ratio(u) >= 1).sort((a, c) => ratio(c) - ratio(a));
        const level = ratio(b) >= 1 ? `${n(ratio(b), 1)}×` : `${n(ratio(b) * 100)} %, within`;
        lines.push(
          `| ${n(rate)} | ${file.label} | ${owners} | ${b.name}: ${n(b.demand, 1)} / ${n(b.limit)} ${b.unit} (${level}) | ${over.length ? over.map((u) => `${u.name} (${n(ratio(u), 1)}×)`).join('; ') : 'none'} | ${ratio(b) >= 1 ? b.remedy : 'nothing'} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** Every limit at every rate, the one-owner ones included (the picture behind the bottleneck table). */
export function limitsTable(file: FileCase): string {
  const uses = RATES.map((r) => limitsAt(file, r, 'one'));
  const head = ['limit', ...RATES.map((r) => `${n(r)}/s`)];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const [i, first] of uses[0]!.entries()) {
    lines.push(`| ${first.name}: ${n(first.limit)} ${first.unit} | ${uses.map((u) => `${n(u[i]!.demand, 1)} (${n((u[i]!.demand / u[i]!.limit) * 100)} %)`).join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Settings for a peak of `perSecond` uploads of `file`: a stage throttle no well-behaved client
 * meets (every upload at the issue's bound of API calls), a burst of twice that within the
 * account's burst, and, for one owner, room for every session open at once.
 */
export function settingsFor(file: FileCase, perSecond: number): { throttleRateLimit: number; throttleBurstLimit: number; maxOpenSessionsPerOwner: number } {
  const u = uploadDemand(file);
  const rate = Math.ceil(perSecond * u.apiCallsBound);
  return {
    throttleRateLimit: Math.max(DEFAULT_SETTINGS.throttleRateLimit, rate),
    throttleBurstLimit: Math.min(AWS_LIMITS.apiGatewayAccountBurst, Math.max(DEFAULT_SETTINGS.throttleBurstLimit, 2 * rate)),
    maxOpenSessionsPerOwner: Math.max(DEFAULTS.maxOpenSessionsPerOwner, Math.ceil(perSecond * u.seconds)),
  };
}

export function settingsTable(): string {
  const head = ['uploads/s', 'file', 'throttleRateLimit', 'throttleBurstLimit', 'maxOpenSessionsPerOwner (one owner)'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const rate of RATES) {
    for (const file of BOTTLENECK_FILES) {
      const x = settingsFor(file, rate);
      lines.push(`| ${n(rate)} | ${file.label} | ${x.throttleRateLimit} | ${x.throttleBurstLimit} | ${x.maxOpenSessionsPerOwner} |`);
    }
  }
  return lines.join('\n');
}

/** The marked blocks of docs/scale.md, by name: `<!-- scale-model:NAME -->` ... `<!-- /scale-model -->`. */
export function renderedBlocks(): Record<string, string> {
  return {
    'per-upload': perUploadTable(),
    'per-1000-concurrent': perThousandConcurrentTable(),
    bottlenecks: bottleneckTable(),
    'limits-1gib': limitsTable(FILES[2]!),
    'limits-1mib': limitsTable(FILES[0]!),
    settings: settingsTable(),
    throttle: [
      `| file | API calls per upload (bound) | uploads/s at the stage's ${DEFAULT_SETTINGS.throttleRateLimit} req/s (at the bound) | uploads/s at the Function URL router's reserved concurrency ${DEFAULT_SETTINGS.functionUrlConcurrency} |`,
      '| --- | --- | --- | --- |',
      ...FILES.map((f) => {
        const u = uploadDemand(f);
        return `| ${f.label} | ${u.apiCalls} (${u.apiCallsBound}) | ${n(uploadsPerSecondAtStageThrottle(f), 1)} (${n(DEFAULT_SETTINGS.throttleRateLimit / u.apiCallsBound, 1)}) | ${n(DEFAULT_SETTINGS.functionUrlConcurrency / u.lambdaSeconds, 1)} |`;
      }),
    ].join('\n'),
    durations: [
      `| ${Object.keys(MEASURED_MS).join(' | ')} |`,
      `| ${Object.keys(MEASURED_MS).map(() => '---').join(' | ')} |`,
      `| ${Object.values(MEASURED_MS).map((ms) => `${ms} ms`).join(' | ')} |`,
    ].join('\n'),
  };
}
