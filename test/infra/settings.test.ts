/** CDK context -> stack settings (lib/settings.ts): what `-c key=value` means, and what it refuses. */
import { DEFAULT_SETTINGS, LOCALSTACK_S3_PUBLIC_ENDPOINT, resolveSettings, settingsFromContext } from '../../lib/settings.js';
import { retentionDays } from '../../lib/mpu-stack.js';

const fromContext = (context: Record<string, unknown>) => settingsFromContext((k) => context[k]);

describe('settingsFromContext', () => {
  test('no context: the defaults (HTTP API, retained data, no browser origins, 15 min URLs, 24 h sessions, no tracing)', () => {
    expect(fromContext({})).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toMatchObject({
      api: 'http-api',
      localstack: false,
      retainData: true,
      // The CLI needs no CORS; a browser app names its origin explicitly.
      corsAllowedOrigins: [],
      tracing: false,
      functionUrlConcurrency: 10,
      urlExpirySeconds: 900,
      sessionTtlSeconds: 86400,
      objectKeyPrefix: 'uploads/',
    });
  });

  test('localstack=true switches to the free-plan variant', () => {
    expect(fromContext({ localstack: 'true' })).toMatchObject({
      api: 'function-url',
      localstack: true,
      retainData: false,
      dashboard: false,
      s3PublicEndpoint: LOCALSTACK_S3_PUBLIC_ENDPOINT,
    });
  });

  test('strings from -c are parsed: numbers, booleans, comma-separated lists', () => {
    expect(
      fromContext({
        sessionTtlSeconds: '3600',
        urlExpirySeconds: '300',
        retainData: 'false',
        corsAllowedOrigins: 'https://a.example.com, https://b.example.com',
        objectKeyPrefix: 'in/coming/',
      }),
    ).toMatchObject({
      sessionTtlSeconds: 3600,
      urlExpirySeconds: 300,
      retainData: false,
      corsAllowedOrigins: ['https://a.example.com', 'https://b.example.com'],
      objectKeyPrefix: 'in/coming/',
    });
    // cdk.json may hold real JSON values.
    expect(fromContext({ corsAllowedOrigins: ['https://a.example.com'], dashboard: false })).toMatchObject({
      corsAllowedOrigins: ['https://a.example.com'],
      dashboard: false,
    });
  });

  test('tracing, the alarm e-mail and the Function URL cap from -c', () => {
    expect(fromContext({ tracing: 'true', alarmEmail: 'ops@example.com', functionUrlConcurrency: '25' })).toMatchObject({
      tracing: true,
      alarmEmail: 'ops@example.com',
      functionUrlConcurrency: 25,
    });
    expect(fromContext({}).alarmEmail).toBeUndefined();
  });

  test('API tokens by default, answers cached 300 s; authCacheTtlSeconds and tokensTableName from -c', () => {
    expect(fromContext({}).authCacheTtlSeconds).toBe(300);
    expect(fromContext({}).jwtAuth).toBeUndefined();
    expect(fromContext({ authCacheTtlSeconds: '0', tokensTableName: 'acme-tokens' })).toMatchObject({
      authCacheTtlSeconds: 0,
      tokensTableName: 'acme-tokens',
    });
  });

  test('jwtIssuer + jwtAudience enable the JWT authorizer', () => {
    expect(fromContext({ jwtIssuer: 'https://id.example.com', jwtAudience: 'mpu,cli' }).jwtAuth).toEqual({
      issuer: 'https://id.example.com',
      audience: ['mpu', 'cli'],
    });
    expect(() => fromContext({ jwtIssuer: 'https://id.example.com' })).toThrow(/go together/);
  });

  test.each([
    [{ urlExpirySeconds: String(8 * 24 * 3600) }, /urlExpirySeconds/],
    [{ api: 'rest' }, /api/],
    [{ objectKeyPrefix: 'no-slash' }, /objectKeyPrefix/],
    [{ maxFileSize: String(6 * 1024 ** 4) }, /maxFileSize/],
    [{ retainData: 'maybe' }, /retainData/],
    [{ corsAllowedOrigins: 'https://a.example.com/path' }, /corsAllowedOrigins/],
    [{ localstack: 'true', api: 'http-api' }, /no API Gateway v2/],
    [{ api: 'function-url', jwtIssuer: 'https://id.example.com', jwtAudience: 'x' }, /jwtAuth needs the HTTP API/],
    [{ authCacheTtlSeconds: '3601' }, /authCacheTtlSeconds/],
    [{ authCacheTtlSeconds: '-1' }, /authCacheTtlSeconds/],
    [{ alarmEmail: 'not-an-address' }, /alarmEmail/],
    [{ tracing: 'yes' }, /tracing/],
    [{ localstack: 'true', tracing: 'true' }, /X-Ray/],
    [{ functionUrlConcurrency: '0' }, /functionUrlConcurrency/],
    // The "sweeper not running" alarm looks at 3 periods of twice the interval: at most one day.
    [{ sweepIntervalMinutes: '241' }, /sweepIntervalMinutes/],
  ])('refuses %j', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });

  test('resolveSettings fills in defaults for the stack props', () => {
    expect(resolveSettings({ sweepIntervalMinutes: 5 })).toEqual({ ...DEFAULT_SETTINGS, sweepIntervalMinutes: 5 });
  });
});

describe('retentionDays', () => {
  test('rounds up to a retention CloudWatch Logs accepts', () => {
    expect(retentionDays(30)).toBe(30);
    expect(retentionDays(31)).toBe(60);
    expect(retentionDays(3653)).toBe(3653);
  });
});
