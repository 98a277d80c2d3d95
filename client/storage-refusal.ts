/**
 * What storage's error answer to a presigned part PUT means, read from its S3 error code (the
 * `<Code>` of the XML body) rather than its status: S3 answers 403 both for a URL that stopped
 * working (a freshly signed one fixes it) and for a write it will not take whatever the URL
 * (a full quota, a policy, an unknown key): retrying those only wastes time.
 */

/** Codes of a URL that no longer works: expired, badly signed, or signed with lapsed credentials. */
const URL_CODES: ReadonlySet<string> = new Set([
  'ExpiredToken',
  'TokenRefreshRequired',
  'RequestExpired',
  'SignatureDoesNotMatch',
  'RequestTimeTooSkewed',
]);

/**
 * A URL is signed at most this long before its answer reaches us (API Gateway's 30 s integration
 * timeout), so it may stop working up to this long before the expiry the client reckons from
 * `url_expires_in` on receipt.
 */
export const URL_SIGNING_SLACK_MS = 30_000;

export interface StorageAnswer {
  status: number;
  /** The S3 error code, when the body had one. */
  code: string | undefined;
  message: string | undefined;
  /** When the URL stops working (ms since epoch, client clock), if known. */
  urlExpiresAt: number | undefined;
  /** When the answer arrived (ms since epoch, client clock). */
  answeredAt: number;
}

/** True when a fresh URL fixes this refusal. */
export function urlNeedsRefresh(a: StorageAnswer): boolean {
  if (a.code !== undefined && URL_CODES.has(a.code)) return true;
  if (a.code === 'AccessDenied' || (a.status === 403 && a.code === undefined)) {
    // AWS says "Request has expired"; Ceph RGW says AccessDenied with no message at all. Without
    // the words, only the URL's own lifetime tells an expired URL from a policy's refusal.
    if (/expired/i.test(a.message ?? '')) return true;
    return a.urlExpiresAt !== undefined && a.answeredAt >= a.urlExpiresAt - URL_SIGNING_SLACK_MS;
  }
  return false;
}

/** What to do about refusals no fresh URL fixes, for the error message. */
const HINTS: Readonly<Record<string, string>> = {
  QuotaExceeded: "the bucket's storage quota is full: free space or raise the quota, then resume",
  AccessDenied: 'storage denies this write: a bucket or key policy, or the permissions of the role that signs the URLs',
  InvalidAccessKeyId: 'storage does not know the access key the API signs with (deleted, or of another account)',
  AccountProblem: 'a problem with the storage account (e.g. suspended) blocks writes',
  AllAccessDisabled: 'all access to this bucket has been disabled',
  NotSignedUp: 'the storage account is not signed up for S3',
};

export function refusalHint(code: string | undefined): string | undefined {
  return code === undefined ? undefined : HINTS[code];
}
