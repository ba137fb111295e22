import { HttpModule } from '@nestjs/axios';
import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { RedisModule } from '../redis/redis.module.js';
import { createMemoryTier, ShoutcloudCache } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudHealthIndicator } from './shoutcloud.health.js';
import { undiciAdapter } from './shoutcloud.http-adapter.js';
import { ShoutcloudService } from './shoutcloud.service.js';

@Module({
  imports: [
    RedisModule,
    TerminusModule,
    // A factory, so that each app gets (and closes) its own connection pool.
    HttpModule.registerAsync({
      useFactory: () => ({
        // undici's pool under HttpService: a miss costs far less CPU than through node:http.
        adapter: undiciAdapter(),
        // The reference server answers 400 to anything but this exact header value.
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        // We classify statuses and parse bodies ourselves: the live service has answered
        // `Content-Type: APPLICATION/JSON`, and its host answers HTML error pages.
        responseType: 'text',
        transformRequest: [(data: string) => data],
        transformResponse: [(data: string) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: 1024 * 1024,
        // Shoutcloud is reached directly; reading *_PROXY from the environment on every call cost
        // ~1% of a miss.
        proxy: false,
      }),
    }),
    CacheModule.registerAsync({
      inject: [shoutcloudConfig.KEY],
      useFactory: (config: ConfigType<typeof shoutcloudConfig>) => ({ stores: [createMemoryTier(config)] }),
    }),
  ],
  providers: [ShoutcloudClient, ShoutcloudCache, ShoutcloudService, ShoutcloudHealthIndicator],
  exports: [ShoutcloudService, ShoutcloudHealthIndicator, ShoutcloudClient],
})
export class ShoutcloudModule {}
