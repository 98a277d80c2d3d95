/**
 * Structured logs and CloudWatch metrics for every handler (Powertools for AWS Lambda).
 *
 * The metric names live here, in ONE constant, because two sides must agree on them: the
 * handlers that emit them and the CDK stack whose dashboard and alarms read them
 * (lib/constructs/monitoring.ts imports METRICS, METRICS_NAMESPACE and SERVICE_NAME).
 *
 * Metrics are written as CloudWatch Embedded Metric Format (EMF) log lines: no API call, no
 * latency, no IAM permission. Emit them with the default `service` dimension only; the
 * dashboard queries exactly {service: SERVICE_NAME}, and an extra dimension would create a
 * different metric that the dashboard never shows.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Value of the `service` key in every log line and of the `service` metric dimension. */
export const SERVICE_NAME = 'mpu';

/** CloudWatch namespace of the custom metrics. */
export const METRICS_NAMESPACE = 'MpuUploads';

/** Every custom metric: name as stored in CloudWatch, and its unit. */
export const METRICS = {
  /** init created a session (value 1). */
  uploadsStarted: { name: 'UploadsStarted', unit: MetricUnit.Count },
  /** complete assembled an object (value 1). */
  uploadsCompleted: { name: 'UploadsCompleted', unit: MetricUnit.Count },
  /** A client aborted a session (value 1). */
  uploadsAborted: { name: 'UploadsAborted', unit: MetricUnit.Count },
  /** The sweeper reclaimed an expired session (value: sessions in one sweep). */
  uploadsExpired: { name: 'UploadsExpired', unit: MetricUnit.Count },
  /** Size of each completed object. */
  bytesUploaded: { name: 'BytesUploaded', unit: MetricUnit.Bytes },
  /** Seconds from init to a successful complete. */
  uploadDuration: { name: 'UploadDuration', unit: MetricUnit.Seconds },
  /** Presigned part URLs handed out (init + parts). */
  partUrlsIssued: { name: 'PartUrlsIssued', unit: MetricUnit.Count },
  /** The sweeper could not abort an expired session's multipart upload (value: uploads in one sweep). */
  sweepAbortFailures: { name: 'SweepAbortFailures', unit: MetricUnit.Count },
  /** One sweeper run finished (value 1): the "sweeper not running" alarm watches for its absence. */
  sweepRuns: { name: 'SweepRuns', unit: MetricUnit.Count },
} as const;

export type MetricKey = keyof typeof METRICS;

/**
 * Outside Lambda (unit tests, the local cloud) EMF lines are noise on stdout: metrics stay off
 * there unless POWERTOOLS_METRICS_DISABLED says otherwise. Powertools reads the variable in its
 * constructor, so the default is set before `new Metrics()`; an explicit value always wins.
 */
const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
if (!inLambda && process.env.POWERTOOLS_METRICS_DISABLED === undefined) {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
}

/** Jest runs handlers thousands of times; a test that wants logs sets POWERTOOLS_LOG_LEVEL. */
const quietInTests =
  process.env.JEST_WORKER_ID !== undefined && process.env.POWERTOOLS_LOG_LEVEL === undefined ? 'SILENT' : undefined;

export const logger = new Logger({ serviceName: SERVICE_NAME, ...(quietInTests ? { logLevel: quietInTests } : {}) });

export const metrics = /* @__PURE__ */ new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/** Buffers one data point; it is written by flushMetrics() at the end of the invocation. */
export function recordMetric(key: MetricKey, value = 1): void {
  const { name, unit } = METRICS[key];
  metrics.addMetric(name, unit, value);
}

/**
 * Writes buffered metrics (one EMF line). Call once per invocation, in a `finally`.
 * Skips the call when nothing was recorded: Powertools warns on every empty flush.
 */
export function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
