/**
 * Small SVG charts, no dependencies: grouped bars with min-max whiskers, and line charts over
 * categorical x values (e.g. workers 1, 2, 4, 8, 16 evenly spaced), with optional markers and
 * reference lines. Plain SVG 1.1 text that GitHub renders inline.
 */
export interface Range {
  median: number;
  min: number;
  max: number;
}

const W = 760;
const H = 400;
const M = { top: 46, right: 170, bottom: 58, left: 70 };
const COLORS = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(title: string, yLabel: string, xLabel: string, yMax: number, body: string[]): string {
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = M.top + ph - (ph * i) / 5;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end" fill="#444">${+v.toFixed(v < 10 ? 2 : 0)}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}" stroke="#888"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}" stroke="#888"/>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#222">${esc(yLabel)}</text>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle" fill="#222">${esc(xLabel)}</text>`);
  out.push(...body, '</svg>');
  return `${out.join('\n')}\n`;
}

function legend(names: string[]): string[] {
  const x = W - M.right + 16;
  return names.flatMap((n, i) => [
    `<rect x="${x}" y="${M.top + i * 20}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/>`,
    `<text x="${x + 18}" y="${M.top + i * 20 + 10}">${esc(n)}</text>`,
  ]);
}

export interface HLine {
  y: number;
  label: string;
}

/** Groups along x (e.g. file sizes), one bar per series in each group, whiskers min..max. */
export function barChart(o: { title: string; yLabel: string; xLabel: string; groups: string[]; series: { name: string; values: (Range | undefined)[] }[]; hlines?: HLine[] }): string {
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const all = o.series.flatMap((s) => s.values.filter((v): v is Range => !!v).map((v) => v.max));
  const yMax = niceMax(Math.max(...all, ...(o.hlines ?? []).map((h) => h.y)));
  const y = (v: number) => M.top + ph - (ph * v) / yMax;
  const gw = pw / o.groups.length;
  const bw = (gw * 0.8) / o.series.length;
  const body: string[] = [];
  o.groups.forEach((g, gi) => {
    body.push(`<text x="${M.left + gw * (gi + 0.5)}" y="${M.top + ph + 18}" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!v) return;
      const x = M.left + gw * gi + gw * 0.1 + bw * si;
      body.push(`<rect x="${x.toFixed(1)}" y="${y(v.median).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(M.top + ph - y(v.median)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name} ${g}: ${v.median.toFixed(1)} (${v.min.toFixed(1)}-${v.max.toFixed(1)})`)}</title></rect>`);
      const cx = x + (bw - 2) / 2;
      body.push(`<path d="M${cx} ${y(v.min)}V${y(v.max)}M${cx - 3} ${y(v.min)}h6M${cx - 3} ${y(v.max)}h6" stroke="#222" fill="none"/>`);
      body.push(`<text x="${cx}" y="${y(v.max) - 4}" text-anchor="middle" font-size="10" fill="#333">${v.median < 10 ? v.median.toFixed(2) : v.median.toFixed(0)}</text>`);
    });
  });
  for (const h of o.hlines ?? []) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(h.y)}" y2="${y(h.y)}" stroke="#c00" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${M.left + pw - 4}" y="${y(h.y) - 4}" text-anchor="end" fill="#c00" font-size="11">${esc(h.label)}</text>`);
  }
  body.push(...legend(o.series.map((s) => s.name)));
  return frame(o.title, o.yLabel, o.xLabel, yMax, body);
}

export interface Point {
  x: string | number;
  y: Range;
}

/** One line per series over categorical x; whiskers min..max; optional circled markers. */
export function lineChart(o: {
  title: string;
  yLabel: string;
  xLabel: string;
  xs: (string | number)[];
  series: { name: string; points: Point[]; dashed?: boolean }[];
  markers?: { series: string; x: string | number; label: string }[];
  hlines?: HLine[];
}): string {
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const all = o.series.flatMap((s) => s.points.map((p) => p.y.max));
  const yMax = niceMax(Math.max(...all, ...(o.hlines ?? []).map((h) => h.y)));
  const y = (v: number) => M.top + ph - (ph * v) / yMax;
  const xi = (x: string | number) => M.left + (pw * (o.xs.indexOf(x) + 0.5)) / o.xs.length;
  const body: string[] = o.xs.map((x) => `<text x="${xi(x)}" y="${M.top + ph + 18}" text-anchor="middle">${esc(String(x))}</text>`);
  for (const h of o.hlines ?? []) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(h.y)}" y2="${y(h.y)}" stroke="#c00" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${M.left + 4}" y="${y(h.y) - 4}" fill="#c00" font-size="11">${esc(h.label)}</text>`);
  }
  o.series.forEach((s, si) => {
    const c = COLORS[si % COLORS.length];
    const pts = s.points.filter((p) => o.xs.includes(p.x));
    body.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map((p) => `${xi(p.x).toFixed(1)},${y(p.y.median).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) {
      const cx = xi(p.x) + (si - (o.series.length - 1) / 2) * 3;
      if (p.y.max > p.y.min) body.push(`<path d="M${cx} ${y(p.y.min)}V${y(p.y.max)}" stroke="${c}" stroke-width="1" opacity="0.7"/>`);
      body.push(`<circle cx="${xi(p.x)}" cy="${y(p.y.median)}" r="3.5" fill="${c}"><title>${esc(`${s.name} @ ${p.x}: ${p.y.median.toFixed(2)} (${p.y.min.toFixed(2)}-${p.y.max.toFixed(2)})`)}</title></circle>`);
    }
  });
  for (const m of o.markers ?? []) {
    const s = o.series.find((q) => q.name === m.series);
    const p = s?.points.find((q) => q.x === m.x);
    if (!s || !p) continue;
    const si = o.series.indexOf(s);
    body.push(`<circle cx="${xi(p.x)}" cy="${y(p.y.median)}" r="8" fill="none" stroke="${COLORS[si % COLORS.length]}" stroke-width="2"/>`);
    body.push(`<text x="${xi(p.x) + 10}" y="${y(p.y.median) + 16 + si * 11}" font-size="10" fill="${COLORS[si % COLORS.length]}">${esc(m.label)}</text>`);
  }
  body.push(...legend(o.series.map((s) => s.name)));
  return frame(o.title, o.yLabel, o.xLabel, yMax, body);
}

/**
 * Step lines over a numeric x axis (e.g. time in seconds): each series holds its value until
 * its next point, the way a worker count does between two changes.
 */
export function stepChart(o: { title: string; yLabel: string; xLabel: string; series: { name: string; points: { x: number; y: number }[] }[]; hlines?: HLine[] }): string {
  const ph = H - M.top - M.bottom;
  const pw = W - M.left - M.right;
  const xMax = niceMax(Math.max(...o.series.flatMap((s) => s.points.map((p) => p.x))));
  const yMax = niceMax(Math.max(...o.series.flatMap((s) => s.points.map((p) => p.y)), ...(o.hlines ?? []).map((h) => h.y)));
  const x = (v: number) => M.left + (pw * v) / xMax;
  const y = (v: number) => M.top + ph - (ph * v) / yMax;
  const body: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (xMax * i) / 5;
    body.push(`<text x="${x(v)}" y="${M.top + ph + 18}" text-anchor="middle">${+v.toFixed(v < 10 ? 1 : 0)}</text>`);
  }
  for (const h of o.hlines ?? []) {
    body.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(h.y)}" y2="${y(h.y)}" stroke="#c00" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${M.left + 4}" y="${y(h.y) - 4}" fill="#c00" font-size="11">${esc(h.label)}</text>`);
  }
  o.series.forEach((s, si) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (!pts.length) return;
    let d = `M${x(pts[0]!.x).toFixed(1)} ${y(pts[0]!.y).toFixed(1)}`;
    for (let i = 1; i < pts.length; i++) d += `H${x(pts[i]!.x).toFixed(1)}V${y(pts[i]!.y).toFixed(1)}`;
    body.push(`<path d="${d}" fill="none" stroke="${COLORS[si % COLORS.length]}" stroke-width="2"><title>${esc(s.name)}</title></path>`);
  });
  body.push(...legend(o.series.map((s) => s.name)));
  return frame(o.title, o.yLabel, o.xLabel, yMax, body);
}
