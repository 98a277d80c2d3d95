/**
 * Optional AWS X-Ray tracing with Powertools Tracer (settings `tracing`, off by default).
 *
 * The switch is the literal `process.env.MPU_TRACING` (ENV.tracing): when the stack bundles a
 * function, esbuild replaces it with the setting (lib/constructs/handler-function.ts), so with
 * tracing off the import() below is dead code and neither the Tracer nor the X-Ray SDK (about
 * 125 KB) is in the bundle. Unbundled (local cloud, tests) the variable is read at run time;
 * unset means off. Lambda's own active tracing records each invocation; this adds a subsegment
 * per AWS SDK call (traceClient) and one per route with its name (traced).
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';

async function startTracer(): Promise<Tracer> {
  const [{ Tracer }, { SERVICE_NAME }] = await Promise.all([import('@aws-lambda-powertools/tracer'), import('./observability.js')]);
  // Outgoing HTTPS that is not an SDK call does not exist here; the SDK clients are captured one by one.
  return new Tracer({ serviceName: SERVICE_NAME, captureHTTPsRequests: false });
}

export const tracer: Tracer | undefined = process.env.MPU_TRACING === 'true' ? await startTracer() : undefined;

/** The client itself, with X-Ray subsegments for its calls when tracing is on. */
export function traceClient<C>(client: C): C {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * Runs `fn` in a subsegment `## name` annotated with the cold start, the service and
 * `annotations` (searchable in X-Ray); errors are recorded on it. Without tracing, just `fn()`.
 */
export async function traced<T>(name: string, annotations: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const parent = tracer?.getSegment();
  if (!tracer || !parent) return fn();
  const segment = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(segment);
  try {
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    for (const [key, value] of Object.entries(annotations)) tracer.putAnnotation(key, value);
    return await fn();
  } catch (e) {
    tracer.addErrorAsMetadata(e as Error);
    throw e;
  } finally {
    segment.close();
    tracer.setSegment(parent);
  }
}
