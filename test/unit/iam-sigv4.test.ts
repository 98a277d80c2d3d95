/** local/iam/sigv4.ts: what signRequest signs, signatureMatches accepts, and nothing altered passes. */
import { parseAuthorization, signatureMatches, signRequest, MalformedAuthorizationError } from '../../local/iam/sigv4.js';

const creds = { accessKeyId: 'MPUFNTESTKEY00000000', secretAccessKey: 'secret-one' };
const body = Buffer.from('{"TableName":"t"}');

function signed(url = '/', over: Record<string, string> = {}) {
  const headers = signRequest({ method: 'POST', url, host: '127.0.0.1:8000', headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem', ...over }, body }, creds, { region: 'us-east-1', service: 'dynamodb' });
  return { method: 'POST', url, headers, body };
}

test('a signed request verifies with its secret, and not with another', () => {
  const req = signed('/a%20b?x=1&a=2');
  const auth = parseAuthorization(req.headers.authorization);
  expect(auth).toMatchObject({ accessKeyId: creds.accessKeyId, region: 'us-east-1', service: 'dynamodb' });
  expect(signatureMatches(req, auth, creds.secretAccessKey)).toBe(true);
  expect(signatureMatches(req, auth, 'secret-two')).toBe(false);
});

test('any change to a signed part breaks the signature', () => {
  const req = signed();
  const auth = parseAuthorization(req.headers.authorization);
  expect(signatureMatches({ ...req, body: Buffer.from('{"TableName":"u"}') }, auth, creds.secretAccessKey)).toBe(false);
  expect(signatureMatches({ ...req, headers: { ...req.headers, 'x-amz-target': 'DynamoDB_20120810.PutItem' } }, auth, creds.secretAccessKey)).toBe(false);
  expect(signatureMatches({ ...req, url: '/other' }, auth, creds.secretAccessKey)).toBe(false);
  expect(signatureMatches(req, { ...auth, region: 'eu-west-1' }, creds.secretAccessKey)).toBe(false);
});

test('malformed Authorization headers are refused as such', () => {
  expect(() => parseAuthorization(undefined)).toThrow(MalformedAuthorizationError);
  expect(() => parseAuthorization('AWS AKID:sig')).toThrow(MalformedAuthorizationError);
  expect(() => parseAuthorization('AWS4-HMAC-SHA256 Credential=a/b/c, SignedHeaders=host, Signature=0')).toThrow(MalformedAuthorizationError);
});
