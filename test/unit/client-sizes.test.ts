import { parseSize, formatBytes, formatDuration } from '../../client/sizes.js';
import { MiB } from '../../contract/limits.js';

describe('parseSize', () => {
  test.each([
    ['5MiB', 5 * MiB],
    ['5mib', 5 * MiB],
    ['5M', 5 * MiB],
    ['8MB', 8_000_000],
    ['1048576', 1048576],
    ['64 KiB', 65536],
    ['1.5GiB', 1.5 * 1024 * MiB],
    ['2kB', 2000],
    ['0', 0],
    ['100B', 100],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(['', 'abc', '5XB', '-1', '1.5', '0.1B', '5 Mi B'])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(RangeError);
  });
});

test('formatting', () => {
  expect(formatBytes(812)).toBe('812 B');
  expect(formatBytes(5 * MiB)).toBe('5.0 MiB');
  expect(formatDuration(840)).toBe('840 ms');
  expect(formatDuration(12_340)).toBe('12.3 s');
  expect(formatDuration(245_000)).toBe('4m05s');
});
