/** Header lookup on its own: the authorizer needs it without request.ts's validation (and zod) behind it. */

/** A header of an event by name, in any letter case (API Gateway lower-cases them; tests may not). */
export function headerOf(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === wanted) return v;
  return undefined;
}
