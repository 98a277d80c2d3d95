/**
 * Turns a results file into docs/benchmarks.md and SVG charts in bench/results/charts/:
 *   tsx bench/report.ts [bench/results/latest.json]
 * (bench/run.ts calls it at the end). The analysis prose lives in bench/notes.md and is copied in.
 * Every target gets a verdict computed here from the numbers (met, or missed and by how much).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../contract/limits.js';
import { uploadCost, PRICES } from './cost-model.js';
import type { Run } from './lib/runners.js';
import { GiB, MiB, type Summary } from './lib/stats.js';
import { barChart, lineChart, stepChart, type Range } from './lib/svg.js';
import type { ApiCallCount } from './sections/api-calls.js';
import type { LoopbackResult } from './sections/loopback.js';
import type { WanProfileResult } from './sections/wan.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
interface Meta { mode: string; started_at: string; duration_s: number; loadavg_start: number[]; loadavg_end: number[]; commit: string; uncommitted_client_files: number }
interface ResumeRow { variant: string; size: number; bytes_done_at_kill: number; resume_bytes_sent: number; bytes_resent: number; concurrency: number; chunk: number; uninterrupted_ms: number; resume_total_ms: number; start_over_total_ms: number }
interface MemRow { size: number; concurrency: number; chunk: number; maxRssBytes: number; mibps: number }
interface Results {
  schema: number;
  mode: string;
  started_at: string;
  duration_s: number;
  error?: string;
  machine: { cpus: number; cpu_model?: string; mem_gib: number; node: string; loadavg_at_start: number[]; loadavg_at_end?: number[] };
  aws_cli?: { version: string; startupMs: number } | null;
  sections: {
    loopback?: LoopbackResult & { meta: Meta };
    wan?: { meta: Meta; size: number; reps: number; finalists: number; grid: { concurrency: number[]; partMiB: number[] }; profiles: WanProfileResult[] };
    api?: { meta: Meta; counted: ApiCallCount[] };
    resume?: { meta: Meta; rows: ResumeRow[] };
    memory?: { meta: Meta; baseline_rss_bytes: number; by_size: MemRow[]; by_concurrency: MemRow[] };
  };
}

/** Issue 13's targets, one place. */
export const TARGETS = { defaultsVsBest: 0.9, mpuVsFloor: 0.9, cpuSPerGiB: 3.0 } as const;

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const sz = (b: number) => (b >= GiB ? `${b / GiB} GiB` : `${b / MiB} MiB`);
const rng = (s: Summary | undefined, f = f1) => (s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : 'n/a');
const r3 = (s: Summary): Range => ({ median: s.median, min: s.min, max: s.max });
const one = (x: number): Range => ({ median: x, min: x, max: x });
const la = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' / ');
const metaLine = (m: Meta) =>
  `*Measured ${m.started_at.slice(0, 16).replace('T', ' ')} UTC (${m.mode} run, ${Math.round(m.duration_s)} s) on commit ${m.commit}${m.uncommitted_client_files ? ` plus ${m.uncommitted_client_files} uncommitted client files (work in progress in the shared tree)` : ''}; load average ${la(m.loadavg_start)} at its start, ${la(m.loadavg_end)} at its end.*`;
/** "missed by 0.07x (8 % short)" for a ratio under its target. */
const shortBy = (got: number, want: number) => `**missed** by ${f2(want - got)}x (${Math.round((1 - got / want) * 100)} % short)`;
const mibOf = (label: string) => Number(/x(\d+)MiB$/.exec(label)?.[1] ?? NaN);
const concOf = (label: string) => Number(/ (\d+)x/.exec(label)?.[1] ?? NaN);
const profileName = (p: WanProfileResult['profile']) => `${p.rttMs} ms, ${p.connBytesPerSec / MiB}/conn, ${p.linkBytesPerSec / MiB} link`;

export function writeReport(resultsFile: string): void {
  const R = JSON.parse(readFileSync(resultsFile, 'utf8')) as Results;
  if (R.schema !== 2) throw new Error(`${resultsFile}: schema ${R.schema}, this report reads schema 2 (run npm run bench)`);
  const S = R.sections;
  const chartDir = join(ROOT, 'bench/results/charts');
  mkdirSync(chartDir, { recursive: true });
  const chart = (name: string, svg: string) => {
    writeFileSync(join(chartDir, name), svg);
    return `![${name}](../bench/results/charts/${name})`;
  };
  const body: string[] = [];
  const targets: string[] = [];
  const P = (s: string = '') => body.push(s);

  // ---- WAN ----
  const wan = S.wan;
  if (wan) {
    const ps = wan.profiles;
    P('## 1. WAN profiles: defaults against the best fixed setting');
    P();
    P(metaLine(wan.meta));
    P();
    P(`A shaping TCP proxy (\`bench/lib/proxy.ts\`) in front of RGW adds the round trip (half each way), caps each connection (token bucket, per direction) and caps all connections' uploads together (the link). mpu reaches the API through a second proxy with the same RTT (no rate cap) and sends its parts to the S3 proxy (the handlers presign for it); \`aws s3 cp\` and lib-storage talk to the S3 proxy directly. File ${sz(wan.size)}. Per profile: a pruned grid search over fixed settings (concurrency ${wan.grid.concurrency.join('/')} x parts ${wan.grid.partMiB.join('/')} MiB, one upload each, hill-climbing along concurrency per part size: \`bench/lib/grid-search.ts\`), then the top ${wan.finalists} screened setting${wan.finalists > 1 ? 's' : ''} re-measured ${wan.reps} times interleaved (rotating order) with mpu at its defaults (no flags), \`aws s3 cp\` at its defaults (10 requests, 8 MiB parts) and lib-storage at its defaults (queueSize 4, 5 MiB parts). *Best fixed* is the finalist with the highest median in those repeated runs (the screening run does not count, so a lucky one does not inflate it). MiB/s: median (min–max).`);
    P();
    P('| profile (RTT, MiB/s per connection, link MiB/s) | best fixed (c x part) | best MiB/s | mpu defaults MiB/s | **defaults / best** | aws s3 cp MiB/s | lib-storage MiB/s | defaults / aws | defaults / lib-storage |');
    P('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const ratios: { id: string; r: number }[] = [];
    for (const pr of ps) {
      const best = pr.summary[pr.best];
      const d = pr.summary['mpu defaults'];
      const aws = pr.summary['aws-cli defaults'];
      const lib = pr.summary['lib-storage defaults'];
      const r = d && best ? d.median / best.median : NaN;
      ratios.push({ id: pr.profile.id, r });
      P(`| ${profileName(pr.profile)}: ${pr.profile.what} | ${pr.best ? `${concOf(pr.best)} x ${mibOf(pr.best)} MiB` : 'n/a'} | ${rng(best)} | ${rng(d)} | **${f2(r)}x** | ${rng(aws)} | ${rng(lib)} | ${f2(d && aws ? d.median / aws.median : NaN)}x | ${f2(d && lib ? d.median / lib.median : NaN)}x |`);
    }
    P();
    const failed = ps.flatMap((p) => p.failures.map((f) => `${p.profile.id}: ${f}`));
    if (failed.length) {
      P(`Failed runs (left out of the medians): ${failed.length}.`);
      P();
      for (const f of failed) P(`- \`${f.replace(/`/g, "'").slice(0, 300)}\``);
      P();
    }
    P(
      chart(
        'wan-throughput.svg',
        barChart({
          title: `Upload throughput per WAN profile (${sz(wan.size)}, median, whiskers min-max)`,
          yLabel: 'MiB/s',
          xLabel: 'profile: RTT ms / MiB/s per connection / link MiB/s',
          groups: ps.map((p) => `${p.profile.rttMs}/${p.profile.connBytesPerSec / MiB}/${p.profile.linkBytesPerSec / MiB}`),
          series: [
            { name: 'best fixed mpu', values: ps.map((p) => (p.summary[p.best] ? r3(p.summary[p.best]!) : undefined)) },
            { name: 'mpu defaults', values: ps.map((p) => (p.summary['mpu defaults'] ? r3(p.summary['mpu defaults']) : undefined)) },
            { name: 'aws s3 cp', values: ps.map((p) => (p.summary['aws-cli defaults'] ? r3(p.summary['aws-cli defaults']) : undefined)) },
            { name: 'lib-storage', values: ps.map((p) => (p.summary['lib-storage defaults'] ? r3(p.summary['lib-storage defaults']) : undefined)) },
          ],
        }),
      ),
    );
    P();
    P(chart('wan-ratio.svg', barChart({ title: 'mpu defaults / best fixed setting, per profile (medians)', yLabel: 'ratio', xLabel: 'profile: RTT ms / MiB/s per connection / link MiB/s', groups: ps.map((p) => `${p.profile.rttMs}/${p.profile.connBytesPerSec / MiB}/${p.profile.linkBytesPerSec / MiB}`), series: [{ name: 'defaults / best', values: ratios.map((x) => (Number.isFinite(x.r) ? one(x.r) : undefined)) }], hlines: [{ y: TARGETS.defaultsVsBest, label: `target ${TARGETS.defaultsVsBest}x` }] })));
    P();
    P('### Screening (one upload per setting, MiB/s; blank = pruned)');
    P();
    for (const pr of ps) {
      const at = (c: number, p: number) => pr.screening.find((s) => s.concurrency === c && s.partMiB === p);
      P(`**${profileName(pr.profile)}** (${pr.screening.length} settings run)`);
      P();
      P(`| part | ${wan.grid.concurrency.map((c) => `c=${c}`).join(' | ')} |`);
      P(`| --- | ${wan.grid.concurrency.map(() => '---').join(' | ')} |`);
      for (const p of wan.grid.partMiB) P(`| ${p} MiB | ${wan.grid.concurrency.map((c) => (at(c, p) ? f1(at(c, p)!.mibps) : '')).join(' | ')} |`);
      P();
    }
    // The concurrency path of the default (adaptive) runs, if the CLI reports it.
    const traced = ps.flatMap((p) => (p.runs as Run[]).filter((r) => r.label === 'mpu defaults' && r.trace?.length).slice(0, 1).map((r) => ({ p, r })));
    P('### Concurrency over time at the defaults');
    P();
    if (traced.length) {
      P('The worker count of the first repeated default run per profile, from the CLI\'s `--json` output, over the upload\'s duration.');
      P();
      P(
        chart(
          'wan-concurrency.svg',
          stepChart({
            title: 'mpu defaults: workers over time, per WAN profile',
            yLabel: 'workers',
            xLabel: 'seconds since the upload started',
            series: traced.map(({ p, r }) => ({ name: `${p.profile.rttMs}/${p.profile.connBytesPerSec / MiB}/${p.profile.linkBytesPerSec / MiB}`, points: [...r.trace!.map((q) => ({ x: q.t / 1000, y: q.n })), { x: r.ms / 1000, y: r.trace![r.trace!.length - 1]!.n }] })),
          }),
        ),
      );
      P();
      P(`| profile | path (workers) | best fixed c |`);
      P('| --- | --- | --- |');
      for (const { p, r } of traced) P(`| ${profileName(p.profile)} | ${r.trace!.map((q) => q.n).join(' → ')} | ${concOf(p.best)} |`);
    } else P('No concurrency trace: the mpu that ran reports none in its `--json` output (fixed concurrency, or no trace emitted), so there is no chart.');
    P();
    const ok = ratios.filter((x) => x.r >= TARGETS.defaultsVsBest);
    const worst = ratios.reduce((a, b) => (b.r < a.r || !Number.isFinite(b.r) ? b : a), ratios[0]!);
    targets.push(`| mpu defaults >= ${TARGETS.defaultsVsBest}x the best fixed setting on every WAN profile | ${ratios.map((x) => `${x.id}: ${f2(x.r)}x`).join(', ')} | ${ok.length === ratios.length ? 'met' : `${shortBy(worst.r, TARGETS.defaultsVsBest)} at ${worst.id}; ${ratios.length - ok.length} of ${ratios.length} profiles under`} |`);
  }

  // ---- loopback ----
  const lb = S.loopback;
  if (lb) {
    const t = lb.summary;
    P('## 2. Loopback: mpu against the storage multipart floor');
    P();
    P(metaLine(lb.meta));
    P();
    P(`Same ${sz(lb.size)} file, RGW directly, each tool a separate process, interleaved with the order rotated each repetition (n = ${Object.values(t)[0]?.mibps.n ?? 0} per tool). The *floor* is the storage's multipart cost alone: create, presigned UploadPart of each part straight from memory at the same part size and concurrency (no hashing, no API, no file reads), complete. MiB/s: each tool's own transfer timing (process start-up excluded; \`aws s3 cp\`: wall time minus the median of \`aws s3 ls\`, ${f1(R.aws_cli?.startupMs ?? NaN)} ms). CPU s/GiB and peak RSS: the whole process (GNU time, start-up included).`);
    P();
    P('*floor + MD5* is the floor with mpu\'s integrity: each part hashed just before its PUT and sent with Content-MD5. *mpu upload phase*: the size over mpu\'s upload phase alone (its result\'s `timings.upload_ms`), without init and complete through the API, which the whole-upload column includes.');
    P();
    P('| concurrency x part | floor MiB/s | floor + MD5 MiB/s | mpu MiB/s | **mpu / floor** | mpu / floor + MD5 | mpu upload phase MiB/s | upload phase / floor | mpu CPU s/GiB | floor CPU s/GiB |');
    P('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    const pairRatios: { what: string; r: number }[] = [];
    const ratio = (a: Summary | undefined, b: Summary | undefined) => (a && b ? a.median / b.median : NaN);
    for (const p of lb.pairs) {
      const r = ratio(t[p.mpu]?.mibps, t[p.floor]?.mibps);
      pairRatios.push({ what: `${p.concurrency} x ${p.partMiB} MiB`, r });
      const md5 = p.floorMd5 ? t[p.floorMd5]?.mibps : undefined;
      const up = t[p.mpu]?.upload_mibps;
      P(`| ${p.concurrency} x ${p.partMiB} MiB | ${rng(t[p.floor]?.mibps)} | ${md5 ? rng(md5) : '–'} | ${rng(t[p.mpu]?.mibps)} | **${f2(r)}x** | ${md5 ? `${f2(ratio(t[p.mpu]?.mibps, md5))}x` : '–'} | ${up ? rng(up) : '–'} | ${up ? `${f2(ratio(up, t[p.floor]?.mibps))}x` : '–'} | ${rng(t[p.mpu]?.cpu_s_per_gib, f2)} | ${rng(t[p.floor]?.cpu_s_per_gib, f2)} |`);
    }
    P();
    const defRuns = lb.runs.filter((r) => r.label === 'mpu defaults');
    const chosen = [...new Set(defRuns.map((r) => `${r.parts} x ${(r.chunk ?? 0) / MiB} MiB`))].join(', ');
    P('| tool (defaults unless stated) | MiB/s | CPU s/GiB | peak RSS MiB |');
    P('| --- | --- | --- | --- |');
    const others: [string, string][] = [
      ['raw-mem', 'ceiling: 1 PUT from memory'],
      ['mpu defaults', `mpu, no flags (${chosen || '?'} parts)`],
      ['lib-storage defaults', '@aws-sdk/lib-storage Upload (queueSize 4, 5 MiB)'],
      ['aws-cli defaults', '`aws s3 cp` (10 requests, 8 MiB)'],
    ];
    for (const [k, name] of others) if (t[k]) P(`| ${name} | ${rng(t[k]!.mibps)} | ${rng(t[k]!.cpu_s_per_gib, f2)} | ${rng(t[k]!.max_rss_mib, (x) => x.toFixed(0))} |`);
    P();
    if (R.aws_cli) P(`\`aws s3 cp\`: ${R.aws_cli.version}, path-style addressing, checksums only when required; its transfer settings left at their defaults.`);
    else P('`aws s3 cp` was not installed (Debian package `awscli`), so its row is missing.');
    P();
    const labels = ['raw-mem', ...lb.pairs.flatMap((p) => [p.floor, p.mpu]), 'mpu defaults', 'lib-storage defaults', 'aws-cli defaults'].filter((k) => t[k]);
    P(chart('loopback-throughput.svg', barChart({ title: `Loopback, ${sz(lb.size)} (median, whiskers min-max)`, yLabel: 'MiB/s', xLabel: 'concurrency x part size', groups: lb.pairs.map((p) => `${p.concurrency} x ${p.partMiB} MiB`), series: [{ name: 'floor', values: lb.pairs.map((p) => (t[p.floor] ? r3(t[p.floor]!.mibps) : undefined)) }, { name: 'mpu', values: lb.pairs.map((p) => (t[p.mpu] ? r3(t[p.mpu]!.mibps) : undefined)) }] })));
    P();
    P(chart('loopback-cpu.svg', barChart({ title: `Client CPU per GiB, whole process (${sz(lb.size)}, median)`, yLabel: 'CPU seconds per GiB', xLabel: 'tool', groups: ['CPU s/GiB'], series: labels.map((k) => ({ name: k, values: [r3(t[k]!.cpu_s_per_gib)] })), hlines: [{ y: TARGETS.cpuSPerGiB, label: `target ${TARGETS.cpuSPerGiB} s/GiB (mpu)` }] })));
    P();
    const under = pairRatios.filter((x) => !(x.r >= TARGETS.mpuVsFloor));
    const worst = pairRatios.reduce((a, b) => (b.r < a.r ? b : a), pairRatios[0]!);
    targets.push(`| loopback: mpu >= ${TARGETS.mpuVsFloor}x the multipart floor at 5 and 16 MiB parts, same concurrency | ${pairRatios.map((x) => `${x.what}: ${f2(x.r)}x`).join(', ')} | ${under.length ? `${shortBy(worst.r, TARGETS.mpuVsFloor)} at ${worst.what}; ${under.length} of ${pairRatios.length} under` : 'met'} |`);
    const cpu = t['mpu defaults']?.cpu_s_per_gib;
    if (cpu) targets.push(`| client CPU <= ${TARGETS.cpuSPerGiB} s/GiB (whole mpu process, ${sz(lb.size)}, defaults, GNU time) | ${rng(cpu, f2)} s/GiB${lb.size !== 256 * MiB ? ` (the target's 256 MiB is the full run's size; start-up weighs more on ${sz(lb.size)})` : ''} | ${cpu.median <= TARGETS.cpuSPerGiB ? 'met' : `**missed** by ${f2(cpu.median - TARGETS.cpuSPerGiB)} s/GiB (${Math.round((cpu.median / TARGETS.cpuSPerGiB - 1) * 100)} % over)`} |`);
    const rss = t['mpu defaults']?.max_rss_mib;
    const rssBound = 100 + DEFAULTS.maxMemory / MiB;
    if (rss) targets.push(`| peak RSS at defaults <= 100 MiB + the memory budget (${DEFAULTS.maxMemory / MiB} MiB of part buffers) | ${rng(rss, (x) => x.toFixed(0))} MiB on ${sz(lb.size)} (section 2) | ${rss.max <= rssBound ? 'met' : `**missed** by ${f1(rss.max - rssBound)} MiB`} |`);
  }

  // ---- API calls ----
  const api = S.api;
  if (api) {
    P('## 3. API calls per upload');
    P();
    P(metaLine(api.meta));
    P();
    P('Counted in the local gateway\'s log around one `mpu upload` each (every route; a retried call would count too). Target: ceil(parts / 100) + 3. The 1 MiB parts (to get past 1,000 parts with a 1 GiB file) use the second local API, which allows the local cluster\'s 1 MiB minimum part size; the others run at mpu\'s defaults.');
    P();
    P('| file | parts | calls by route | **total** | target | verdict |');
    P('| --- | --- | --- | --- | --- | --- |');
    for (const c of api.counted) P(`| ${sz(c.size)} | ${c.parts} x ${sz(c.chunk)} | ${Object.entries(c.routes).map(([k, v]) => `${k}: ${v}`).join('<br>')} | **${c.total}** | <= ${c.limit} | ${c.total <= c.limit ? 'met' : `**missed** by ${c.total - c.limit}`} |`);
    P();
    const over = api.counted.filter((c) => c.total > c.limit);
    targets.push(`| API calls per upload <= ceil(parts/100) + 3 | ${api.counted.map((c) => `${c.parts} parts: ${c.total} (<= ${c.limit})`).join(', ')} | ${over.length ? `**missed** at ${over.map((c) => `${c.parts} parts by ${c.total - c.limit} call${c.total - c.limit > 1 ? 's' : ''}`).join(', ')}` : 'met'} |`);
  }

  // ---- resume ----
  const rows = S.resume?.rows;
  if (rows?.length) {
    P('## 4. Resume after SIGKILL at 90 %');
    P();
    P(metaLine(S.resume!.meta));
    P();
    P('An mpu process (library, concurrency 4, 5 MiB parts, a state directory) SIGKILLs itself once 90 % of the bytes are sent; `mpu upload` of the same file then resumes automatically. Times are process wall times (start-up included). *Re-sent* = bytes the killed run had sent + bytes the resume sent − file size. *Start over* = the killed run + a full upload. The shaped variant runs over the reference WAN profile.');
    P();
    P('| link | file | killed at | resume sent | of file | re-sent | in-flight bound (c x part) | uninterrupted s | killed + resume s | killed + start over s |');
    P('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) P(`| ${r.variant} | ${sz(r.size)} | ${f1((r.bytes_done_at_kill / r.size) * 100)} % | ${f1(r.resume_bytes_sent / MiB)} MiB | ${f1((r.resume_bytes_sent / r.size) * 100)} % | ${f1(r.bytes_resent / MiB)} MiB | ${f1((r.concurrency * r.chunk) / MiB)} MiB | ${f2(r.uninterrupted_ms / 1000)} | ${f2(r.resume_total_ms / 1000)} | ${f2(r.start_over_total_ms / 1000)} |`);
    P();
    const variants = [...new Set(rows.map((r) => r.variant))];
    const agg = (v: string, k: 'uninterrupted_ms' | 'resume_total_ms' | 'start_over_total_ms'): Range => {
      const s = rows.filter((r) => r.variant === v).map((r) => r[k] / 1000).sort((a, b) => a - b);
      return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
    };
    P(chart('resume.svg', barChart({ title: 'Resume after a 90 % failure: total time', yLabel: 'seconds', xLabel: 'link', groups: variants, series: [{ name: 'uninterrupted', values: variants.map((v) => agg(v, 'uninterrupted_ms')) }, { name: 'killed + resume', values: variants.map((v) => agg(v, 'resume_total_ms')) }, { name: 'killed + start over', values: variants.map((v) => agg(v, 'start_over_total_ms')) }] })));
    P();
  }

  // ---- memory ----
  const mem = S.memory;
  if (mem) {
    P('## 5. Memory');
    P();
    P(metaLine(mem.meta));
    P();
    P(`Peak RSS of the \`mpu upload\` process (GNU time) at a fixed concurrency and part size, so the bound is defined: 100 MiB + (concurrency + the ${DEFAULTS.readAhead} parts read ahead) x part size. The CLI alone (\`mpu --help\`) peaks at ${f1(mem.baseline_rss_bytes / MiB)} MiB. The default (adaptive) runs' peak RSS is in section 2.`);
    P();
    P('| file | concurrency | part | peak RSS MiB | bound MiB | MiB/s |');
    P('| --- | --- | --- | --- | --- | --- |');
    const bound = (c: number, ch: number) => 100 + ((c + DEFAULTS.readAhead) * ch) / MiB;
    for (const r of [...mem.by_size, ...mem.by_concurrency]) P(`| ${sz(r.size)} | ${r.concurrency} | ${sz(r.chunk)} | ${f1(r.maxRssBytes / MiB)} | ${f1(bound(r.concurrency, r.chunk))} | ${f1(r.mibps)} |`);
    P();
    P(chart('rss-by-concurrency.svg', lineChart({ title: `mpu peak RSS by concurrency (${sz(mem.by_concurrency[0]?.size ?? 0)}, ${sz(mem.by_concurrency[0]?.chunk ?? 0)} parts)`, yLabel: 'MiB', xLabel: 'concurrency', xs: mem.by_concurrency.map((r) => r.concurrency), series: [{ name: 'peak RSS', points: mem.by_concurrency.map((r) => ({ x: r.concurrency, y: one(r.maxRssBytes / MiB) })) }, { name: 'bound', dashed: true, points: mem.by_concurrency.map((r) => ({ x: r.concurrency, y: one(bound(r.concurrency, r.chunk)) })) }] })));
    P();
  }

  // ---- cost ----
  if (api) {
    P('## 6. Cost model');
    P();
    P('Requests per upload from the code paths (derivation in `bench/cost-model.ts`), with the `/parts` calls counted in section 3.');
    P();
    P('| file | parts | Lambda invocations (handlers + authorizer) | DynamoDB requests / RRU / WRU | S3 PUT-class requests | USD per 1,000 uploads |');
    P('| --- | --- | --- | --- | --- | --- |');
    for (const c of api.counted) {
      const u = uploadCost(c.parts, c.routes['POST /upload/{id}/parts'] ?? 0);
      P(`| ${sz(c.size)} | ${c.parts} x ${sz(c.chunk)} | ${u.lambdaInvocations.handlers} + ${u.lambdaInvocations.authorizerMin}–${u.lambdaInvocations.authorizerMax} | ${u.dynamodb.requests}–${u.dynamodb.requests + u.apiCalls - 1} / ${u.dynamodb.rru}–${u.dynamodb.rru + u.apiCalls - 1} / ${u.dynamodb.wru} | ${u.s3.putClass} | $${u.usdPer1000Uploads.min.toFixed(3)}–$${u.usdPer1000Uploads.max.toFixed(3)} |`);
    }
    P();
    P(`Price assumptions (${PRICES.asOf}): HTTP API $${PRICES.httpApiPerMillion}/million requests; Lambda $${PRICES.lambdaPerMillion}/million requests + $${PRICES.lambdaPerGbSecond}/GB-s, every handler ${PRICES.lambdaMemoryGb * 1024} MB billed ${PRICES.lambdaBilledSeconds * 1000} ms per call (assumed); DynamoDB on-demand $${PRICES.ddbWritePerMillion}/million WRU, $${PRICES.ddbReadPerMillion}/million RRU; S3 Standard $${PRICES.s3PutPerThousand}/1,000 PUT/COPY/POST/LIST. S3's per-request charge for the part PUTs dominates: larger parts cut it proportionally. Not included: storage, CloudWatch, data transfer in (free).`);
    P();
  }

  const md: string[] = [];
  const H = (s: string = '') => md.push(s);
  H('# Benchmarks');
  H();
  H('<!-- Generated by bench/report.ts from bench/results/latest.json; prose from bench/notes.md. Do not edit by hand. -->');
  H();
  H('`npm run bench` (full, about 18 minutes here) or `npm run bench -- --quick` (about 5) starts a private local cloud, runs the sections below, writes `bench/results/latest.json`, this page and the charts in `bench/results/charts/`. `--only loopback,wan,api,resume,memory` runs a subset (the other sections keep their previous numbers, each labelled with when and on which commit it was measured); `--profiles ID,...` a subset of the WAN profiles, `--wan-size MiB` their file size (default 192); `--out FILE`, `--no-report`. Re-render the page alone with `tsx bench/report.ts`. Needs GNU time (`scripts/install-deps.sh`) and, for the `aws s3 cp` rows, Debian\'s `awscli` (`apt-get install -y awscli`).');
  H();
  H(`Last run: **${R.mode}**, ${R.started_at}, ${Math.round(R.duration_s)} s; ${R.machine.cpus} CPUs (${R.machine.cpu_model ?? '?'}), ${R.machine.mem_gib} GiB, Node ${R.machine.node}; load average ${la(R.machine.loadavg_at_start)} at its start${R.machine.loadavg_at_end ? `, ${la(R.machine.loadavg_at_end)} at its end` : ''} (other work shared the machine: the ratios, measured in the same run, are the meaningful numbers).${R.error ? ` **It stopped early:** \`${R.error.slice(0, 300)}\`.` : ''}`);
  H();
  if (targets.length) {
    H('## Targets (issue 13)');
    H();
    H('| target | measured (medians) | verdict |');
    H('| --- | --- | --- |');
    targets.forEach((v) => H(v));
    H();
  }
  md.push(...body);
  const notes = join(ROOT, 'bench/notes.md');
  if (existsSync(notes)) H(readFileSync(notes, 'utf8').trim());
  H();
  writeFileSync(join(ROOT, 'docs/benchmarks.md'), md.join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) writeReport(process.argv[2] ?? join(ROOT, 'bench/results/latest.json'));
