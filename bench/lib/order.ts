/**
 * The order of the tools in repetition `rep`: each repetition starts at a different tool and
 * walks with a different stride (coprime with the count, so every tool runs once), so that no
 * tool always runs first, nor always right after the same neighbour (whose load, e.g. RGW
 * still digesting a big upload, would then always hit it).
 */
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export function rotated<T>(items: readonly T[], rep: number): T[] {
  const n = items.length;
  if (n <= 2) return items.map((_, i) => items[(i + rep) % n]!);
  const strides = Array.from({ length: n - 1 }, (_, i) => i + 1).filter((s) => gcd(s, n) === 1);
  const stride = strides[rep % strides.length]!;
  return items.map((_, i) => items[(rep + i * stride) % n]!);
}
