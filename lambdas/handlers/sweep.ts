/** EventBridge-scheduled sweeper: expires abandoned sessions and aborts their uploads. */
import { logger, flushMetrics } from '../observability.js';
import { defaultDeps } from '../service/deps.js';
import { sweepExpired, type SweepResult } from '../service/sweeper.js';

export async function handler(): Promise<SweepResult> {
  try {
    const result = await sweepExpired(defaultDeps());
    logger.info('sweep finished', { ...result });
    return result;
  } finally {
    flushMetrics();
  }
}
