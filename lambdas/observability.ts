/** Structured logs and metrics (Powertools for AWS Lambda), shared by every handler. */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'mpu';
export const METRICS_NAMESPACE = 'ResumableUploads';

/** Metric names, referenced by the handlers and by the stack's dashboard and alarms. */
export const METRICS = {
  uploadsStarted: 'UploadsStarted',
  uploadsCompleted: 'UploadsCompleted',
  uploadsAborted: 'UploadsAborted',
  uploadsExpired: 'UploadsExpired',
  bytesUploaded: 'BytesUploaded',
  uploadDuration: 'UploadDuration',
} as const;

export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export { MetricUnit };
