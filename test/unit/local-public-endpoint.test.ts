/** `--s3-public-endpoint`: an http(s) origin, normalized; anything else refused with its reason. */
import { PublicEndpointError, parseS3PublicEndpoint } from '../../local/public-endpoint.js';
import { localSettings } from '../../local/cloud.js';
import { S3_LIMITS } from '../../contract/limits.js';

test('an origin is kept as its origin (default ports and a trailing slash dropped)', () => {
  expect(parseS3PublicEndpoint('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
  expect(parseS3PublicEndpoint('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000');
  expect(parseS3PublicEndpoint('https://cdn.example.com:443')).toBe('https://cdn.example.com');
  expect(parseS3PublicEndpoint('HTTP://Storage.Example.com')).toBe('http://storage.example.com');
});

test.each([
  ['', /not a URL/],
  ['127.0.0.1:9000', /not a URL/],
  ['localhost:9000', /localhost: is not http: or https:/],
  ['ftp://127.0.0.1', /ftp: is not http: or https:/],
  ['http://user:pw@127.0.0.1:9000', /no credentials/],
  ['http://127.0.0.1:9000/bucket', /an origin only/],
  ['http://127.0.0.1:9000/?x=1', /an origin only/],
  ['http://127.0.0.1:9000#f', /an origin only/],
])('%j is refused', (value, why) => {
  expect(() => parseS3PublicEndpoint(value)).toThrow(PublicEndpointError);
  expect(() => parseS3PublicEndpoint(value)).toThrow(why);
});

test('the option becomes the stack setting the local cloud synthesizes; Transfer Acceleration is refused there', () => {
  expect(localSettings({ s3PublicEndpoint: 'http://127.0.0.1:9000' }, S3_LIMITS.minPartSize).s3PublicEndpoint).toBe('http://127.0.0.1:9000');
  expect(localSettings({}, S3_LIMITS.minPartSize).s3PublicEndpoint).toBeUndefined();
  expect(() => localSettings({ settings: { transferAcceleration: true } }, S3_LIMITS.minPartSize)).toThrow(/RGW has no accelerate endpoint/);
});
