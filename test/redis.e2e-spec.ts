import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startApps, type AppProcess } from './support/app-process.js';
import { postJson, send } from './support/http.js';
import { testRedisUrl, trackTestKeys, TEST_DATABASE, type TestKeys } from './support/redis-test-database.js';
import { startTcpProxy, type CuttableProxy } from './support/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  process.stdout.write('SKIPPED test/redis.e2e-spec.ts: REDIS_URL is unset, so the shared cache tier is not tested\n');
}
const describeWithRedis = REDIS_URL ? describe : describe.skip;

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2)}`;

/** Readiness with Redis's every detail (the version among them), from the metrics port. */
async function health(app: AppProcess) {
  const response = await send(app.metricsUrl, 'GET', '/health');
  return {
    status: response.status,
    redis: response.json<{ details: { redis: { connected: boolean; version?: string } } }>().details.redis,
  };
}

/** Answers this replica has written to the shared tier so far (in the background, after answering). */
async function written(app: AppProcess): Promise<number> {
  const metrics = (await send(app.metricsUrl, 'GET', '/metrics')).text;
  return Number(metrics.match(/^redis_cache_writes_total\{outcome="written"\} (\d+)/m)?.[1] ?? 0);
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never happened: ${what}`);
}

describeWithRedis('two replicas sharing Redis', () => {
  let upstream: ShoutcloudServer;
  let proxy: CuttableProxy;
  let a: AppProcess;
  let b: AppProcess;
  let keys: TestKeys;

  beforeAll(async () => {
    keys = await trackTestKeys(REDIS_URL!);
    const target = new URL(REDIS_URL!);
    upstream = await startShoutcloudServer();
    // The apps reach Redis through a proxy this test can cut: the real Redis is never stopped.
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    // The replicas use a database of the tests' own (support/redis-test-database.ts).
    const viaProxy = new URL(testRedisUrl(REDIS_URL!));
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const env = { SHOUTCLOUD_URL: upstream.url, REDIS_URL: viaProxy.toString(), REDIS_TIMEOUT_MS: '200' };
    [a, b] = await startApps(2, env);
    await eventually(async () => (await health(a)).redis.connected && (await health(b)).redis.connected, 'both connected');
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await proxy?.close();
    await upstream?.close();
    await keys?.delete();
    keys?.close();
  });

  it('a miss on one replica is a hit on the other, with one upstream call', async () => {
    const input = unique('shared');
    const before = upstream.requests;
    const writes = await written(a);
    const first = await postJson(a.url, '/transform', { data: input });
    expect(first.headers['x-cache']).toBe('MISS');
    // The answer does not wait for its write to Redis; the other replica finds it once written.
    await eventually(async () => (await written(a)) > writes, 'the answer written to Redis');
    const second = await postJson(b.url, '/transform', { data: input });
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(upstream.requests - before).toBe(1);
    const metrics = await send(b.metricsUrl, 'GET', '/metrics');
    expect(metrics.text).toMatch(/transform_cache_outcomes_total\{outcome="hit",tier="redis"\} [1-9]/);
  });

  it('keeps answering and stays ready while Redis is down, says so in /health, and shares again once it is back', async () => {
    const cachedBefore = unique('cached-before');
    await postJson(a.url, '/transform', { data: cachedBefore });

    const linesBefore = a.logLines().length;
    proxy.cut();
    await eventually(async () => !(await health(a)).redis.connected && !(await health(b)).redis.connected, 'both see Redis down');
    for (const app of [a, b]) {
      const ready = await health(app);
      expect(ready.status).toBe(200);
      const fresh = await postJson(app.url, '/transform', { data: unique('during-outage') });
      expect(fresh.status).toBe(200);
      expect(fresh.headers['x-cache']).toBe('MISS');
    }
    const memoryHit = await postJson(a.url, '/transform', { data: cachedBefore });
    expect(memoryHit.status).toBe(200);
    expect(memoryHit.headers['x-cache']).toBe('HIT');
    const metrics = await send(a.metricsUrl, 'GET', '/metrics');
    expect(metrics.text).toContain('redis_connected{tier="shared"} 0');
    // One warning for the outage, not one per request.
    // Counted from the cut: under load, a connect attempt at start-up may time out once too.
    const warnings = a.logLines().slice(linesBefore).filter((line) => String(line.msg).startsWith('Redis unreachable'));
    expect(warnings).toHaveLength(1);

    proxy.restore();
    await eventually(async () => (await health(a)).redis.connected && (await health(b)).redis.connected, 'both reconnected');
    const input = unique('after-outage');
    const writes = await written(a);
    expect((await postJson(a.url, '/transform', { data: input })).headers['x-cache']).toBe('MISS');
    await eventually(async () => (await written(a)) > writes, 'the answer written to Redis');
    expect((await postJson(b.url, '/transform', { data: input })).headers['x-cache']).toBe('HIT');
  });

  it('shares the rate limit across replicas', async () => {
    const limited = { SHOUTCLOUD_URL: upstream.url, REDIS_URL: testRedisUrl(REDIS_URL!), RATE_LIMIT_PER_MINUTE: '4', TRUST_PROXY_HOPS: '1' };
    const [c, d] = await startApps(2, limited);
    try {
      // Counters are shared once each replica knows the server's version (PEXPIRE NX needs 7.0).
      const sharing = async (app: AppProcess) => (await health(app)).redis.version !== undefined;
      await eventually(async () => (await sharing(c)) && (await sharing(d)), 'both know the Redis version');
      // A client address of its own, so earlier runs within the same minute do not count.
      const client = { 'x-forwarded-for': `10.${[1, 2, 3].map(() => Math.floor(Math.random() * 250)).join('.')}` };
      const statuses: number[] = [];
      for (const app of [c, d, c, d, c]) statuses.push((await postJson(app.url, '/transform', { data: 'x' }, client)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
    } finally {
      await Promise.all([c.stop(), d.stop()]);
    }
  });

  // Last: the replicas stop, so that nothing is written after the keys are deleted.
  it(`writes to database ${TEST_DATABASE} only, and deletes what it wrote there`, async () => {
    await Promise.all([a.stop(), b.stop()]);
    const written = await keys.written();
    expect(written.filter((key) => key.startsWith('transform-api:shout:')).length).toBeGreaterThan(0);
    expect(written.filter((key) => key.startsWith('transform-api:rate:')).length).toBeGreaterThan(0);
    await keys.delete();
    expect(await keys.written()).toEqual([]);
  });
});
