/**
 * The upload session: its stored shape (one DynamoDB item per session) and its rules.
 * Pure: no I/O. The table layout lives in aws/table-definition.ts.
 */
import type { SessionStatus } from '../../contract/api.js';

export interface SessionRecord {
  session_id: string;
  owner: string;
  filename: string;
  content_type: string;
  object_key: string;
  upload_id: string;
  /**
   * Absent while a stream session (init without `file_size`) is open: complete sets both from
   * the parts it assembles.
   */
  file_size?: number;
  chunk_size: number;
  total_parts?: number;
  status: SessionStatus;
  created_at: string;
  updated_at: string;
  expires_at: string;
  /** Epoch seconds when DynamoDB TTL may delete the row (expiry + retention). */
  ttl: number;
  /** Sparse index key: set only while the session is open, so the sweeper reads open sessions only. */
  open_shard?: string;
  /** Set while status is `completing`: when the lease was taken. */
  completing_since?: string;
  etag?: string;
  completed_at?: string;
  aborted_at?: string;
}

/** A session opened without a size (a stream) that no completer has sized yet. */
export function isUnsized(s: Pick<SessionRecord, 'file_size'>): boolean {
  return s.file_size === undefined;
}

/** Status as callers see it: an open session past its expiry is expired even before the sweeper runs. */
export function effectiveStatus(s: Pick<SessionRecord, 'status' | 'expires_at'>, now: Date): SessionStatus {
  if (s.status === 'in_progress' && Date.parse(s.expires_at) <= now.getTime()) return 'expired';
  return s.status;
}

/**
 * Statuses a session may move to from each status: the state machine. aws/session-store.ts makes
 * no change that is not an arrow here (it checks when it loads), and every arrow is one of its changes.
 */
export const TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  // completed: storage already holds the object (a complete whose answer was lost).
  in_progress: ['completing', 'completed', 'aborted', 'expired'],
  // completing: a stale lease taken over; expired: the holder died, nothing was assembled.
  completing: ['completing', 'completed', 'in_progress', 'expired'],
  completed: [],
  aborted: [],
  expired: [],
};

export function canTransition(from: SessionStatus, to: SessionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** True once no further change can happen to the session: it no longer counts as open. */
export function isFinal(status: SessionStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function filePath(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
