import { HttpModule } from '@nestjs/axios';
import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Keyv } from 'keyv';
import { namespaceProvider } from '../config/config-namespace.js';
import { RedisConnection } from '../redis/redis.connection.js';
import { RedisKeyvStore } from '../redis/redis.keyv-store.js';
import { RedisModule } from '../redis/redis.module.js';
import { SharedTierWriter } from './shoutcloud.cache-writer.js';
import { SHARED_NAMESPACE, ShoutcloudCache } from './shoutcloud.cache.js';
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
        // `Content-Type: APPLICATION/JSON`, and its host answers HTML error pages. Bytes, so that
        // the reply is decoded strictly.
        responseType: 'arraybuffer',
        transformRequest: [(data: string) => data],
        transformResponse: [(data: Buffer) => data],
        validateStatus: () => true,
        maxRedirects: 0,
        // The client sets a bound for each request from its size (replyByteLimit).
        maxContentLength: 1024 * 1024,
        // Shoutcloud is reached directly, so *_PROXY is not read from the environment on every call.
        proxy: false,
      }),
    }),
    // The shared tier; ShoutcloudCache holds the in-process one itself (read synchronously).
    CacheModule.registerAsync({
      imports: [RedisModule],
      inject: [RedisConnection],
      useFactory: (redis: RedisConnection) => ({ stores: [new Keyv({ store: new RedisKeyvStore(redis), namespace: SHARED_NAMESPACE })] }),
    }),
  ],
  providers: [namespaceProvider(shoutcloudConfig), ShoutcloudClient, ShoutcloudCache, SharedTierWriter, ShoutcloudService, ShoutcloudHealthIndicator],
  exports: [ShoutcloudService, ShoutcloudHealthIndicator, ShoutcloudClient, SharedTierWriter],
})
export class ShoutcloudModule {}
