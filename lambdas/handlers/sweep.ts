/** EventBridge-scheduled sweeper: expires abandoned sessions and aborts their uploads. */
import type { Context } from 'aws-lambda';
import { logger, flushMetrics } from '../observability.js';
import { defaultDeps } from '../service/deps.js';
import { sweepExpired, type SweepResult } from '../service/sweeper.js';

export async function handler(_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SweepResult> {
  try {
    const result = await sweepExpired(defaultDeps(), {
      remainingMs: () => context.getRemainingTimeInMillis(),
      onFailed: (session, error) => logger.warn('sweep: session not reclaimed; left for the next run', { session_id: session.session_id, error }),
    });
    logger.info('sweep finished', { ...result });
    return result;
  } finally {
    flushMetrics();
  }
}
