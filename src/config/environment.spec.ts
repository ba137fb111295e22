import { EnvironmentError, validateEnvironment } from './environment.js';

describe('validateEnvironment', () => {
  it('applies the documented defaults to an empty environment', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      SHOUTCLOUD_URL: 'http://api.shoutcloud.io',
      SHOUTCLOUD_TIMEOUT_MS: 1000,
      SHOUTCLOUD_RETRIES: 2,
      CACHE_TTL_SECONDS: 86_400,
      CACHE_STALE_SECONDS: 604_800,
      MAX_INPUT_LENGTH: 10_000,
      MAX_BODY_BYTES: 131_072,
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_GRACE_MS: 10_000,
      REQUEST_DEADLINE_MS: 3000,
      SHOUTCLOUD_FALLBACK: 'off',
      REDIS_TIMEOUT_MS: 100,
      REDIS_BREAKER_THRESHOLD: 5,
      REDIS_PROBE_INTERVAL_MS: 1000,
      LOG_LEVEL: 'info',
      BATCH_MAX_ITEMS: 100,
      SHOUTCLOUD_COALESCE: 'on',
      SHOUTCLOUD_COALESCE_MAX_BYTES: 65_536,
      SHOUTCLOUD_MAX_CALLS_IN_FLIGHT: 1,
      SHOUTCLOUD_QUEUE_MAX_BYTES: 1_048_576,
      SHOUTCLOUD_HEDGE: 'on',
      SHOUTCLOUD_HEDGE_MIN_MS: 50,
      SHOUTCLOUD_HEDGE_MAX_MS: 500,
    });
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.RATE_LIMIT_PER_MINUTE).toBeUndefined();
    expect(env.CORS_ORIGINS).toBeUndefined();
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('converts and keeps valid values; blank means default', () => {
    const env = validateEnvironment({ PORT: '8080', REDIS_URL: 'redis://redis:6379/0', RATE_LIMIT_PER_MINUTE: '600', SHOUTCLOUD_FALLBACK: 'local', LOG_LEVEL: '' });
    expect(env).toMatchObject({ PORT: 8080, REDIS_URL: 'redis://redis:6379/0', RATE_LIMIT_PER_MINUTE: 600, SHOUTCLOUD_FALLBACK: 'local', LOG_LEVEL: 'info' });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '1e3'],
    ['SHOUTCLOUD_URL', 'api.shoutcloud.io'],
    ['SHOUTCLOUD_URL', 'ftp://example.com'],
    ['SHOUTCLOUD_RETRIES', '-1'],
    ['SHOUTCLOUD_TIMEOUT_MS', '1.5'],
    ['REDIS_URL', 'http://redis'],
    ['SHOUTCLOUD_FALLBACK', 'yes'],
    ['LOG_LEVEL', 'verbose'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['BATCH_MAX_ITEMS', '0'],
    ['BATCH_MAX_ITEMS', '10001'],
    ['SHOUTCLOUD_COALESCE', 'true'],
    ['SHOUTCLOUD_COALESCE_MAX_BYTES', '100'],
    ['SHOUTCLOUD_MAX_CALLS_IN_FLIGHT', '0'],
    ['SHOUTCLOUD_MAX_CALLS_IN_FLIGHT', '65'],
    ['SHOUTCLOUD_MAX_CALLS_IN_FLIGHT', '1.5'],
    ['SHOUTCLOUD_QUEUE_MAX_BYTES', '1000'],
    ['SHOUTCLOUD_HEDGE', 'yes'],
    ['SHOUTCLOUD_HEDGE_MIN_MS', '0'],
    ['SHOUTCLOUD_HEDGE_MAX_MS', '1.5'],
    ['REDIS_BREAKER_THRESHOLD', '0'],
    ['REDIS_PROBE_INTERVAL_MS', '50'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['METRICS_PORT', '65536'],
    ['METRICS_CACHE_MS', '-1'],
    ['METRICS_CACHE_MS', '60001'],
    ['RATE_LIMIT_IPV6_PREFIX', '31'],
    ['RATE_LIMIT_IPV6_PREFIX', '129'],
  ])('refuses %s=%s with a line naming the variable', (name, value) => {
    try {
      validateEnvironment({ [name]: value });
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(EnvironmentError);
      expect((error as EnvironmentError).problems).toHaveLength(1);
      expect((error as EnvironmentError).problems[0]).toMatch(new RegExp(`^${name}=`));
    }
  });

  it('refuses the metrics on the public port', () => {
    expect(() => validateEnvironment({ PORT: '9464' })).toThrow(
      expect.objectContaining({ problems: ['METRICS_PORT: must differ from PORT, which is public'] }),
    );
  });

  it.each(['localhost:6379', 'http://redis', '127.0.0.1'])('refuses REDIS_URL=%s naming both schemes and an example', (value) => {
    expect(() => validateEnvironment({ REDIS_URL: value })).toThrow(
      expect.objectContaining({
        problems: [`REDIS_URL=${JSON.stringify(value)}: must be a redis:// or rediss:// (TLS) URL, e.g. redis://127.0.0.1:6379`],
      }),
    );
  });

  it('refuses a hedge minimum above its maximum', () => {
    expect(() => validateEnvironment({ SHOUTCLOUD_HEDGE_MIN_MS: '600', SHOUTCLOUD_HEDGE_MAX_MS: '500' })).toThrow(
      expect.objectContaining({ problems: ['SHOUTCLOUD_HEDGE_MIN_MS: must not exceed SHOUTCLOUD_HEDGE_MAX_MS'] }),
    );
  });

  it('reports every bad variable at once', () => {
    expect(() => validateEnvironment({ PORT: 'x', LOG_LEVEL: 'y', MAX_BODY_BYTES: 'z' })).toThrow(
      expect.objectContaining({ problems: expect.arrayContaining([expect.stringMatching(/^PORT=/), expect.stringMatching(/^LOG_LEVEL=/), expect.stringMatching(/^MAX_BODY_BYTES=/)]) }),
    );
  });
});

describe('validateEnvironment: the ways to reach Redis', () => {
  const sentinels = { REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379,[fd00::2]:26379', REDIS_SENTINEL_MASTER: 'cache' };

  it.each([
    ['a URL alone', { REDIS_URL: 'redis://redis:6379' }],
    ['a URL and a password beside it', { REDIS_URL: 'redis://redis:6379', REDIS_PASSWORD: 'secret' }],
    ['Sentinels and the master name', sentinels],
    ['Sentinels with credentials for both', { ...sentinels, REDIS_USERNAME: 'api', REDIS_PASSWORD: 'a', REDIS_SENTINEL_USERNAME: 's', REDIS_SENTINEL_PASSWORD: 'b' }],
    ['Sentinels with passwords only', { ...sentinels, REDIS_PASSWORD: 'a', REDIS_SENTINEL_PASSWORD: 'b' }],
    ['cluster seeds', { REDIS_CLUSTER_NODES: 'redis-0:6379,[fd00::3]:6379' }],
    ['cluster seeds with credentials', { REDIS_CLUSTER_NODES: 'redis-0:6379', REDIS_USERNAME: 'api', REDIS_PASSWORD: 'a' }],
  ])('accepts %s', (_, raw) => {
    expect(() => validateEnvironment(raw)).not.toThrow();
  });

  it.each([
    ['both ways', { REDIS_URL: 'redis://redis:6379', ...sentinels }, /^REDIS_URL and REDIS_SENTINELS: both set/],
    ['Sentinels without the master name', { REDIS_SENTINELS: 's:26379' }, /^REDIS_SENTINEL_MASTER: unset, but REDIS_SENTINELS needs/],
    ['a master name without Sentinels', { REDIS_SENTINEL_MASTER: 'cache' }, /^REDIS_SENTINELS: unset, but REDIS_SENTINEL_MASTER is set/],
    ['a user without a password', { ...sentinels, REDIS_USERNAME: 'api' }, /^REDIS_USERNAME: set without REDIS_PASSWORD$/],
    ['a Sentinel user without a password', { ...sentinels, REDIS_SENTINEL_USERNAME: 's' }, /^REDIS_SENTINEL_USERNAME: set without REDIS_SENTINEL_PASSWORD$/],
    ['a password and no Redis', { REDIS_PASSWORD: 'a' }, /^REDIS_USERNAME, REDIS_PASSWORD: set, but none of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES is$/],
    ['a URL and cluster seeds', { REDIS_URL: 'redis://redis:6379', REDIS_CLUSTER_NODES: 'redis-0:6379' }, /^REDIS_URL and REDIS_CLUSTER_NODES: both set/],
    ['all three ways', { REDIS_URL: 'redis://redis:6379', ...sentinels, REDIS_CLUSTER_NODES: 'redis-0:6379' }, /^REDIS_URL and REDIS_SENTINELS and REDIS_CLUSTER_NODES: all set/],
    ['cluster seeds without ports', { REDIS_CLUSTER_NODES: 'redis-0,redis-1' }, /^REDIS_CLUSTER_NODES="redis-0,redis-1": must be comma-separated host:port pairs/],
    ['a Sentinel password with a URL', { REDIS_URL: 'redis://redis:6379', REDIS_SENTINEL_PASSWORD: 'b' }, /^REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD: set, but REDIS_SENTINELS is not$/],
    ['a password in the URL and beside it', { REDIS_URL: 'redis://:a@redis:6379', REDIS_PASSWORD: 'b' }, /^REDIS_URL and REDIS_USERNAME\/REDIS_PASSWORD: credentials in both/],
  ])('refuses %s, naming the variables', (_, raw, line) => {
    try {
      validateEnvironment(raw);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(EnvironmentError);
      expect((error as EnvironmentError).problems).toEqual([expect.stringMatching(line)]);
    }
  });

  it.each(['sentinel-0', 'sentinel-0:', ':26379', 'a:1,,b:2', 'a:1 b:2', 'fd00::2:26379'])('refuses REDIS_SENTINELS=%s', (value) => {
    expect(() => validateEnvironment({ REDIS_SENTINELS: value, REDIS_SENTINEL_MASTER: 'cache' })).toThrow(
      expect.objectContaining({ problems: [expect.stringMatching(/^REDIS_SENTINELS=.*host:port/)] }),
    );
  });
});
