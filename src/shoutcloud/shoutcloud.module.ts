import { HttpModule } from '@nestjs/axios';
import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { RedisModule } from '../redis/redis.module.js';
import { createMemoryTier, ShoutcloudCache } from './shoutcloud.cache.js';
import { ShoutcloudClient } from './shoutcloud.client.js';
import { shoutcloudConfig } from './shoutcloud.config.js';
import { ShoutcloudHealthIndicator } from './shoutcloud.health.js';
import { ShoutcloudService } from './shoutcloud.service.js';

// Keep-alive: a new TCP handshake per try would cost more than Shoutcloud's own work. Idle
// sockets are closed before a typical 60 s server keep-alive to avoid racing its close.
const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 256, maxFreeSockets: 64, timeout: 30_000 };

@Module({
  imports: [
    ConfigModule.forFeature(shoutcloudConfig),
    RedisModule,
    TerminusModule,
    HttpModule.register({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
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
    CacheModule.registerAsync({
      imports: [ConfigModule.forFeature(shoutcloudConfig)],
      inject: [shoutcloudConfig.KEY],
      useFactory: (config: ConfigType<typeof shoutcloudConfig>) => ({ stores: [createMemoryTier(config)] }),
    }),
  ],
  providers: [ShoutcloudClient, ShoutcloudCache, ShoutcloudService, ShoutcloudHealthIndicator],
  exports: [ShoutcloudService, ShoutcloudHealthIndicator, ShoutcloudClient],
})
export class ShoutcloudModule {}
