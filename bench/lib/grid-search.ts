/**
 * Screening for the best fixed setting (concurrency x part size) on one WAN profile, pruned so a
 * profile costs ~8-10 uploads instead of the whole grid's 15:
 *  - per part size, a hill climb along concurrency: start in the middle, go up while the
 *    throughput grows, go down only if the first step up did not (throughput over workers is
 *    unimodal here: it grows until the link, the per-connection caps or the CPU bind, then
 *    flattens or falls);
 *  - concurrency above the number of parts is skipped (it cannot put more parts in flight).
 * One upload per setting: the screening ranks settings; the top ones are then re-measured,
 * interleaved with the defaults and the other tools (bench/sections/wan.ts), and only those
 * repeated runs make the "best fixed" number, so a lucky screening run does not inflate it.
 */
export interface Setting {
  concurrency: number;
  partMiB: number;
}

export interface Screened extends Setting {
  mibps: number;
}

export async function screen(
  grid: { concurrency: readonly number[]; partMiB: readonly number[] },
  fileMiB: number,
  measure: (s: Setting) => Promise<number | undefined>,
): Promise<Screened[]> {
  const out: Screened[] = [];
  for (const partMiB of grid.partMiB) {
    const parts = Math.ceil(fileMiB / partMiB);
    // Keep the first concurrency that reaches all parts in flight; drop the larger ones.
    const cs = grid.concurrency.filter((c, i) => i === 0 || grid.concurrency[i - 1]! < parts);
    const at = new Map<number, number>();
    const get = async (i: number): Promise<number> => {
      const c = cs[i]!;
      if (!at.has(c)) at.set(c, (await measure({ concurrency: c, partMiB })) ?? 0);
      return at.get(c)!;
    };
    const start = Math.min(cs.length - 1, Math.floor(cs.length / 2));
    let best = await get(start);
    let i = start;
    let climbed = false;
    while (i + 1 < cs.length) {
      const v = await get(i + 1);
      if (v <= best) break;
      best = v;
      i++;
      climbed = true;
    }
    if (!climbed) {
      for (let j = start - 1; j >= 0; j--) {
        const v = await get(j);
        if (v <= best) break;
        best = v;
      }
    }
    for (const [concurrency, mibps] of at) if (mibps > 0) out.push({ concurrency, partMiB, mibps });
  }
  return out.sort((a, b) => b.mibps - a.mibps);
}

/** The top `n` screened settings (distinct), the candidates for "best fixed". */
export function finalists(screened: readonly Screened[], n: number): Setting[] {
  return screened.slice(0, n).map(({ concurrency, partMiB }) => ({ concurrency, partMiB }));
}
