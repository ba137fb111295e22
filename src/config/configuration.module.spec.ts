import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { redisConfig } from '../redis/redis.config.js';
import { shoutcloudConfig } from '../shoutcloud/shoutcloud.config.js';
import { appConfig } from './app.config.js';
import { namespaceProvider } from './config-namespace.js';
import { ConfigurationModule } from './configuration.module.js';
import { validateEnvironment } from './environment.js';

/** Feature modules that provide their own namespace, as ShoutcloudModule and RedisModule do. */
@Module({ providers: [namespaceProvider(shoutcloudConfig)], exports: [shoutcloudConfig.KEY] })
class FeatureModule {}
@Module({ providers: [namespaceProvider(redisConfig)], exports: [redisConfig.KEY] })
class RedisFeatureModule {}

async function namespacesOf(raw: Record<string, string>) {
  const moduleRef = await Test.createTestingModule({ imports: [ConfigurationModule.forRoot(validateEnvironment(raw)), FeatureModule, RedisFeatureModule] }).compile();
  return {
    app: moduleRef.get<ConfigType<typeof appConfig>>(appConfig.KEY),
    redis: moduleRef.get<ConfigType<typeof redisConfig>>(redisConfig.KEY),
    shoutcloud: moduleRef.get<ConfigType<typeof shoutcloudConfig>>(shoutcloudConfig.KEY),
  };
}

describe('ConfigurationModule', () => {
  it("provides the shared namespace, and each feature's own, from the environment it is given, not from process.env", async () => {
    process.env.SHOUTCLOUD_RETRIES = '7';
    try {
      const { app, redis, shoutcloud } = await namespacesOf({
        SHOUTCLOUD_URL: 'http://127.0.0.1:9/',
        CORS_ORIGINS: 'https://a.example, https://b.example',
        REDIS_URL: 'redis://127.0.0.1:6379',
      });
      expect(shoutcloud).toMatchObject({ url: 'http://127.0.0.1:9', retries: 2 });
      expect(app.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
      expect(redis.url).toBe('redis://127.0.0.1:6379');
    } finally {
      delete process.env.SHOUTCLOUD_RETRIES;
    }
  });

  it('keeps two modules with different environments apart', async () => {
    const [one, two] = await Promise.all([
      namespacesOf({ SHOUTCLOUD_COALESCE: 'off', SHUTDOWN_GRACE_MS: '500' }),
      namespacesOf({ SHOUTCLOUD_TIMEOUT_MS: '50' }),
    ]);
    expect(one.shoutcloud).toMatchObject({ coalesce: false, timeoutMs: 1000 });
    expect(two.shoutcloud).toMatchObject({ coalesce: true, timeoutMs: 50 });
    expect([one.app.shutdownGraceMs, two.app.shutdownGraceMs]).toEqual([500, 10_000]);
  });

  it('says where a namespace comes from when called without an environment (as ConfigModule.forFeature would)', () => {
    expect(() => (shoutcloudConfig as unknown as () => unknown)()).toThrow(
      "the 'shoutcloud' namespace is provided from the app's Environment (namespaceProvider), not by ConfigModule",
    );
  });
});
