/**
 * How the client reads S3's error answers to a part PUT, from real XML bodies: Ceph RGW's (as
 * the local cloud sends them, captured from RGW 16) and AWS S3's (as documented). Expiry and
 * signature problems get a fresh URL; refusals no new URL can fix fail at once with exit 8.
 */
import { EXIT, PutPartError } from '../../client/errors.js';
import { putPart } from '../../client/engine/put-part.js';
import { HttpTransport } from '../../client/http-transport.js';
import { createPool } from '../../client/http.js';
import { classify } from '../../client/retry.js';
import { scriptedServer } from './helpers/scripted-http.js';

const RGW = (code: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message></Message>${extra}<RequestId>tx000008e6cab60471e4907-006b0dfb3d-1009-default</RequestId><HostId>1009-default-default</HostId></Error>`;
const AWS = (code: string, message: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>4442587FB7D0A2F9</RequestId><HostId>hBkd0jLq1Yp6e1oYy0ZeZ3OnR4g=</HostId></Error>`;

const MINUTE = 60_000;

/** The PutPartError putPart makes of `status` + `body`, for a URL that stops working at `urlExpiresAt`. */
async function refusal(status: number, body: string, urlExpiresAt: number): Promise<PutPartError> {
  const server = await scriptedServer(() => ({ status, body, headers: { 'content-type': 'application/xml' } }));
  const pool = createPool({ connections: 1 });
  try {
    const err = await putPart(new HttpTransport(pool), {
      partNumber: 3, url: `${server.url}/b/k`, headers: {}, body: Buffer.from('part'), stallTimeoutMs: 5000, urlExpiresAt,
    }).catch((e: unknown) => e);
    if (!(err instanceof PutPartError)) throw new Error(`expected a PutPartError, got ${String(err)}`);
    return err;
  } finally {
    await pool.close();
    await server.close();
  }
}

const expiredUrl = () => Date.now() - 1000;
const freshUrl = () => Date.now() + 10 * MINUTE;

describe('a fresh URL fixes it: refresh', () => {
  test.each([
    ['RGW: an expired presigned URL is AccessDenied without a message', 403, RGW('AccessDenied'), expiredUrl],
    ['RGW: an expired URL refused just before our clock says so (signed up to 30 s before we got it)', 403, RGW('AccessDenied'), () => Date.now() + 20_000],
    ['AWS: an expired presigned URL', 403, AWS('AccessDenied', 'Request has expired', '<X-Amz-Expires>900</X-Amz-Expires><Expires>2026-01-01T00:15:00Z</Expires><ServerTime>2026-01-01T00:20:00Z</ServerTime>'), freshUrl],
    ['RGW: SignatureDoesNotMatch', 403, RGW('SignatureDoesNotMatch'), freshUrl],
    ['AWS: SignatureDoesNotMatch', 403, AWS('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'), freshUrl],
    ['AWS: RequestTimeTooSkewed', 403, AWS('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', '<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>'), freshUrl],
    ['AWS: the signing role session expired (ExpiredToken)', 400, AWS('ExpiredToken', 'The provided token has expired.'), freshUrl],
    ['AWS: TokenRefreshRequired', 400, AWS('TokenRefreshRequired', 'The provided token must be refreshed.'), freshUrl],
    ['AWS: RequestExpired', 403, AWS('RequestExpired', 'Request has expired'), freshUrl],
  ])('%s', async (_name, status, body, expiresAt) => {
    expect(classify(await refusal(status, body, expiresAt()))).toBe('refresh');
  });
});

describe('no URL or retry can fix it: fail at once with exit 8 and say why', () => {
  test.each([
    ['RGW: the bucket quota is full', RGW('QuotaExceeded', '<BucketName>mpu-local-uploads</BucketName>'), 'QuotaExceeded', /quota/i],
    ['AWS: access denied by a policy (URL still valid)', AWS('AccessDenied', 'Access Denied'), 'AccessDenied', /denies/i],
    ['RGW: access denied while the URL is still valid for minutes', RGW('AccessDenied'), 'AccessDenied', /denies/i],
    ['RGW: the access key the API signed with is unknown', RGW('InvalidAccessKeyId'), 'InvalidAccessKeyId', /access key/i],
    ['AWS: InvalidAccessKeyId', AWS('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'), 'InvalidAccessKeyId', /access key/i],
    ['AWS: AccountProblem', AWS('AccountProblem', 'There is a problem with your AWS account that prevents the operation from completing successfully.'), 'AccountProblem', /account/i],
    ['AWS: AllAccessDisabled', AWS('AllAccessDisabled', 'All access to this Amazon S3 resource has been disabled.'), 'AllAccessDisabled', /disabled/i],
    ['AWS: InvalidObjectState', AWS('InvalidObjectState', 'The operation is not valid for the current state of the object.'), 'InvalidObjectState', /InvalidObjectState/],
  ])('%s', async (_name, body, code, hint) => {
    const err = await refusal(403, body, freshUrl());
    expect(classify(err)).toBe('fatal');
    expect(err.s3Code).toBe(code);
    expect(err.exitCode).toBe(EXIT.storageRefused);
    expect(err.message).toContain(`part 3: ${code}`);
    expect(err.message).toMatch(hint);
  });
});

test('a 403 with no S3 error body is judged by the URL clock alone', async () => {
  expect(classify(await refusal(403, '', expiredUrl()))).toBe('refresh');
  const err = await refusal(403, '', freshUrl());
  expect(classify(err)).toBe('fatal');
  expect(err.exitCode).toBe(EXIT.storageRefused);
});

test('AccessDenied without a message, from a URL of unknown lifetime, is a refusal', async () => {
  const err = new PutPartError(1, 403, 'AccessDenied', '');
  expect(classify(err)).toBe('fatal');
});
