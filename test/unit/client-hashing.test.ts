import { etagMatches, md5, md5Base64, md5Hex, multipartEtag, normalizeEtag } from '../../client/hashing.js';

// Reference values computed with openssl/md5sum, not with this code:
//   (printf hello | openssl md5 -binary; printf world | openssl md5 -binary) | md5sum
test('multipart ETag is the MD5 of the concatenated binary part MD5s, dash, part count', () => {
  const parts = [md5(Buffer.from('hello')), md5(Buffer.from('world'))];
  expect(md5Hex(parts[0]!)).toBe('5d41402abc4b2a76b9719d911017c592');
  expect(multipartEtag(parts)).toBe('065947336a2f2a95ba8899f3675c3be6-2');
});

test('5 MiB of zeros plus one zero byte', () => {
  const a = md5(Buffer.alloc(5 * 1024 * 1024));
  expect(md5Hex(a)).toBe('5f363e0e58a95f06cbe9bbc662c5dfb6');
  expect(multipartEtag([a, md5(Buffer.alloc(1))])).toBe('92f3a08aa3b1d7eb318ab9c2fc4a6ec3-2');
});

test('a single empty part (0-byte file)', () => {
  expect(multipartEtag([md5(Buffer.alloc(0))])).toBe('59adb24ef3cdbe0297f05b395827453f-1');
});

test('Content-MD5 is base64 of the digest', () => {
  expect(md5Base64(md5(Buffer.from('hello')))).toBe('XUFAKrxLKna5cZ2REBfFkg==');
});

test('ETags compare unquoted and case-insensitively', () => {
  const d = md5(Buffer.from('hello'));
  expect(normalizeEtag('"ABC-2"')).toBe('abc-2');
  expect(normalizeEtag('W/"abc"')).toBe('abc');
  expect(etagMatches('"5D41402ABC4B2A76B9719D911017C592"', d)).toBe(true);
  expect(etagMatches('5d41402abc4b2a76b9719d911017c592', d)).toBe(true);
  expect(etagMatches('"5d41402abc4b2a76b9719d911017c593"', d)).toBe(false);
});
