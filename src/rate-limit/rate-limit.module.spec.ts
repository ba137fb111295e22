import { APP_GUARD } from '@nestjs/core';
import { RateLimitModule } from './rate-limit.module.js';

describe('RateLimitModule.forRoot', () => {
  it('installs nothing when no limit is set', async () => {
    expect(await RateLimitModule.forRoot({ perMinute: undefined, ipv6PrefixLength: 64 })).toEqual({ module: RateLimitModule });
  });

  it('installs the throttler guard when a limit is set', async () => {
    const module = await RateLimitModule.forRoot({ perMinute: 60, ipv6PrefixLength: 64 });
    expect(module.providers).toEqual([expect.objectContaining({ provide: APP_GUARD })]);
  });
});
