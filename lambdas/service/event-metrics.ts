/** The production event sink: each upload event becomes its metric data points. */
import { recordMetric } from '../observability.js';
import type { UploadEvent } from './events.js';

export function recordUploadEvent(event: UploadEvent): void {
  switch (event.type) {
    case 'started':
      return recordMetric('uploadsStarted');
    case 'urls_issued':
      return recordMetric('partUrlsIssued', event.count);
    case 'completed':
      recordMetric('uploadsCompleted');
      recordMetric('bytesUploaded', event.bytes);
      // A clock skew must not produce a negative or NaN duration.
      if (Number.isFinite(event.durationMs) && event.durationMs >= 0) recordMetric('uploadDuration', event.durationMs / 1000);
      return;
    case 'aborted':
      return recordMetric('uploadsAborted');
    case 'expired':
      if (event.count > 0) recordMetric('uploadsExpired', event.count);
      return;
    case 'swept':
      // Both on every run (failures as 0 too): the alarms see a data point per run, and its absence.
      recordMetric('sweepRuns');
      recordMetric('sweepAbortFailures', event.failed);
      return;
  }
}
