/**
 * Every size and count rule of the system, in one place.
 * S3's multipart rules are hard limits of the service; the defaults are ours.
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** Amazon S3 multipart upload limits (docs: "Amazon S3 multipart upload limits"). */
export const S3_LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  maxObjectSize: 5 * TiB,
  /** CompleteMultipartUpload and ListParts page size. */
  listPartsPageSize: 1000,
} as const;

export const DEFAULTS = {
  chunkSize: 5 * MiB,
  /**
   * Part size of files from `largeFileSize` up. Measured through the shaping proxy (192 MiB,
   * 32 in flight): 8 MiB parts beat 5 MiB by 24-25 % at 100 ms RTT / 4 MiB/s per connection and
   * by 15-18 % at 200 ms, where each part pays a round trip on top of its bytes; on narrow links
   * they lose nothing, on a near, fast one (20 ms, 64 MiB/s per connection) about 5 %
   * (docs/benchmarks.md). Resume re-sends at most one part per uploader either way.
   */
  largeFileChunkSize: 8 * MiB,
  /** Files this large get `largeFileChunkSize` parts (16 parts or more). */
  largeFileSize: 128 * MiB,
  /** Parts in flight: adapted to the link unless fixed (engine/concurrency.ts). */
  concurrency: 'auto',
  /**
   * Where adaptive concurrency starts when the round trip to the API is unknown, and the most it
   * starts at (client/engine/start-count.ts picks from the RTT). Measured through the shaping
   * proxy (192 MiB, 100 ms RTT, 4 MiB/s per connection): from 16 the defaults reached 0.58-0.84x
   * of the best fixed setting (a whole round of parts at 16 before the count could grow), from 32
   * 1.00x; on narrow links more parts in flight only queue (same goodput), on a near, fast link
   * (20 ms) 24 connections cost about 11 % against 4-8. A slow link is cut back after 5 s
   * (concurrency.ts).
   */
  initialConcurrency: 32,
  /** The least adaptive concurrency starts at: a near link (round trip under 32 ms). */
  minInitialConcurrency: 8,
  /** Most parts in flight, adaptive or fixed. */
  maxConcurrency: 64,
  /** Client memory for part buffers: parts in flight plus parts read ahead never exceed maxMemory / part size. */
  maxMemory: 256 * MiB,
  /**
   * Parts read and hashed ahead of the uploaders (client/engine/read-ahead.ts), each in a buffer
   * of its own, within maxMemory: a PUT that ends is followed at once by the next.
   */
  readAhead: 2,
  /** How long an upload session may stay open before the sweeper reclaims it. */
  sessionTtlSeconds: 24 * 60 * 60,
  /** Lifetime of one presigned part URL. */
  urlExpirySeconds: 15 * 60,
  /** How long a finished or dead session row is kept after it expires (then DynamoDB TTL deletes it). */
  rowRetentionSeconds: 7 * 24 * 60 * 60,
  /**
   * A `completing` session whose lease is older than this may be taken over by another complete
   * call. Twice the complete function's 29 s timeout: a live holder is never overtaken.
   */
  completeLeaseSeconds: 60,
  /** Open sessions one owner may hold at once (stops one caller from pinning unbounded storage). */
  maxOpenSessionsPerOwner: 100,
  /** Retry-After (seconds) when an owner is at the cap: sessions end by completing, aborting or expiring. */
  capRetryAfterSeconds: 60,
} as const;

export const API_LIMITS = {
  /** Largest JSON request body any route accepts. */
  maxBodyBytes: 64 * KiB,
  /** URLs returned by init without being asked (keeps the response far below Lambda's 6 MB cap). */
  initialUrlCount: 100,
  /** Most part URLs one `POST /parts` call may ask for. */
  maxUrlsPerRequest: 500,
  maxFilenameLength: 255,
  /**
   * A relative path (`a/b/c.txt`) as a whole, in UTF-8 bytes: S3 keys end at 1,024 bytes, and the
   * key also holds the prefix and the 22-character session id.
   */
  maxRelativePathLength: 900,
  maxContentTypeLength: 255,
} as const;
