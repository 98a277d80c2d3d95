/**
 * Wire format of the HTTP API (snake_case JSON), shared by the handlers and the client.
 * Requests are validated with these schemas; responses are typed by them.
 */
import * as z from 'zod';

export const SESSION_STATUSES = ['in_progress', 'completing', 'completed', 'aborted', 'expired'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** 128 random bits as unpadded base64url: 22 characters. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** base64 of a 16-byte MD5 digest: 24 characters ending in `==`. */
export const MD5_BASE64_PATTERN = /^[A-Za-z0-9+/]{22}==$/;

const byteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const initRequestSchema = z.strictObject({
  /** A base name, or a relative path of `/`-separated segments (each one checked like a base name). */
  filename: z.string().min(1),
  /** Omitted for a stream of unknown length: the size is fixed by the parts `complete` names. */
  file_size: byteCount.optional(),
  chunk_size: z.number().int().positive().optional(),
  content_type: z.string().min(1).optional(),
});
export type InitRequest = z.infer<typeof initRequestSchema>;

export const partUrlRequestSchema = z.strictObject({
  parts: z
    .array(
      z.strictObject({
        part_number: z.number().int().positive(),
        md5: z.string().regex(MD5_BASE64_PATTERN, 'md5 must be the base64 of a 16-byte MD5 digest').optional(),
      }),
    )
    .min(1),
});
export type PartUrlRequest = z.infer<typeof partUrlRequestSchema>;

export const completeRequestSchema = z.strictObject({
  /** Optional: the client's own view; the server checks it against storage. */
  parts: z
    .array(z.strictObject({ part_number: z.number().int().positive(), etag: z.string().min(1) }))
    .optional(),
  /**
   * A session without `file_size` (a stream): how many parts make the object, 1..N. Without it
   * (and without `parts`), N is the highest part number storage holds.
   */
  total_parts: z.number().int().positive().optional(),
});
export type CompleteRequest = z.infer<typeof completeRequestSchema>;

export interface PartUrl {
  part_number: number;
  url: string;
  /** Headers the PUT must carry for the signature to hold (e.g. Content-MD5). */
  headers: Record<string, string>;
}

export interface InitResponse {
  session_id: string;
  /** null for a stream (no `file_size`): parts 1..10,000 may be asked for. */
  total_parts: number | null;
  chunk_size: number;
  expires_at: string;
  url_expires_in: number;
  parts: PartUrl[];
}

export interface PartUrlResponse {
  session_id: string;
  url_expires_in: number;
  parts: PartUrl[];
}

export interface UploadedPart {
  part_number: number;
  size: number;
  etag: string;
}

export interface StatusResponse {
  session_id: string;
  /** The base name or relative path given to init. */
  filename: string;
  /** null while a stream session (init without `file_size`) is open; set once completed. */
  file_size: number | null;
  chunk_size: number;
  total_parts: number | null;
  completed_parts: number[];
  /** Size and ETag of each stored part, so a client can check them against its own file. */
  uploaded_parts: UploadedPart[];
  bytes_uploaded: number;
  status: SessionStatus;
  created_at: string;
  expires_at: string;
  /** Present once completed. */
  file_path?: string;
  etag?: string;
}

export interface CompleteResponse {
  session_id: string;
  status: 'completed';
  file_path: string;
  size: number;
  etag: string;
}

export interface AbortResponse {
  session_id: string;
  status: 'aborted';
}

export interface ErrorBody {
  error: string;
  message: string;
  [extra: string]: unknown;
}
