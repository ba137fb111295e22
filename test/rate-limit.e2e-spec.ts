import { testAppWithUpstream } from './support/app.js';
import { postJson, send } from './support/http.js';

describe('rate limit per client IP', () => {
  describe('with RATE_LIMIT_PER_MINUTE unset (the default)', () => {
    const running = testAppWithUpstream();

    it('is off', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await postJson(running.app.url, '/transform', { data: 'x' })).status);
      expect(statuses).toEqual(Array(10).fill(200));
    });
  });

  describe('with RATE_LIMIT_PER_MINUTE=3', () => {
    const running = testAppWithUpstream({ RATE_LIMIT_PER_MINUTE: '3' });

    it('answers 429 JSON with Retry-After once RATE_LIMIT_PER_MINUTE is spent; probes are exempt', async () => {
      const { url } = running.app;
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await postJson(url, '/transform', { data: 'x' })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await postJson(url, '/v1', { data: 'x' });
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toBe('application/json');
      expect(limited.json()).toMatchObject({ statusCode: 429 });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      for (let i = 0; i < 5; i++) {
        expect((await send(url, 'GET', '/health')).status).toBe(200);
        expect((await send(running.app.metricsUrl, 'GET', '/metrics')).status).toBe(200);
      }
    });
  });

  describe('an IPv6 client behind one trusted proxy', () => {
    const limitedFor = async (url: string, addresses: string[]) => {
      const statuses: number[] = [];
      for (const address of addresses) statuses.push((await postJson(url, '/transform', { data: 'x' }, { 'x-forwarded-for': address })).status);
      return statuses;
    };
    // Four requests from each of two addresses of one /64 (2001:db8:5:1::/64), limit 3.
    const addresses = ['2001:db8:5:1::a', '2001:db8:5:1::b'].flatMap((address) => Array(4).fill(address) as string[]);

    describe('counted by its /64 (RATE_LIMIT_IPV6_PREFIX unset)', () => {
      const running = testAppWithUpstream({ RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY_HOPS: '1' });

      it('shares one budget across the addresses of the /64', async () => {
        expect(await limitedFor(running.app.url, addresses)).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
      });
    });

    describe('counted by its whole address (RATE_LIMIT_IPV6_PREFIX=128)', () => {
      const running = testAppWithUpstream({ RATE_LIMIT_PER_MINUTE: '3', TRUST_PROXY_HOPS: '1', RATE_LIMIT_IPV6_PREFIX: '128' });

      it('gives each address its own budget', async () => {
        expect(await limitedFor(running.app.url, addresses)).toEqual([200, 200, 200, 429, 200, 200, 200, 429]);
      });
    });
  });
});
