import { createClient, type RedisClientType } from '@keyv/redis';
import { createHash } from 'node:crypto';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson, send } from './support/http.js';
import { startSlowRedisProxy, type SlowRedisProxy } from './support/slow-redis-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) {
  process.stdout.write('SKIPPED test/redis-miss.e2e-spec.ts: REDIS_URL is unset, so the miss path through Redis is not tested\n');
}
const describeWithRedis = REDIS_URL ? describe : describe.skip;

/**
 * How long the proxy holds every command: each Redis round trip through it takes at least this.
 * Long enough that a busy machine cannot stall the test's own reading of an answer past it.
 */
const HOLD_MS = 200;

const unique = (label: string) => `${label}-${process.pid}-${Math.random().toString(36).slice(2)}`;
/** The shared tier's key of an ASCII text sent to `/transform` (it stores the reversed text's digest). */
const sharedKey = (text: string) => `transform-api:shout:v4:${createHash('sha256').update([...text].reverse().join('')).digest('base64url')}`;

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

const redisConnected = async (app: TestApp) =>
  (await send(app.url, 'GET', '/health')).json<{ details: { redis: { connected: boolean } } }>().details.redis.connected;

async function writes(app: TestApp, outcome: string): Promise<number> {
  const metrics = (await send(app.metricsUrl, 'GET', '/metrics')).text;
  return Number(metrics.match(new RegExp(`^redis_cache_writes_total\\{outcome="${outcome}"\\} (\\d+)`, 'm'))?.[1] ?? 0);
}

describeWithRedis('a miss with Redis a round trip away', () => {
  let upstream: ShoutcloudServer;
  let proxy: SlowRedisProxy;
  let admin: RedisClientType;
  let viaProxy: string;
  const keys: string[] = [];
  const apps: TestApp[] = [];

  async function appViaProxy(): Promise<TestApp> {
    const app = await startTestApp({ SHOUTCLOUD_URL: upstream.url, REDIS_URL: viaProxy, REDIS_TIMEOUT_MS: '2000' });
    apps.push(app);
    await eventually(() => redisConnected(app), 'the app connected to Redis');
    return app;
  }

  /** The commands on `key` the proxy has passed on to Redis, by name. */
  const commandsOn = (key: string) => proxy.forwarded.filter((command) => command.key === key).map((command) => command.name);

  beforeAll(async () => {
    const target = new URL(REDIS_URL!);
    upstream = await startShoutcloudServer();
    proxy = await startSlowRedisProxy(target.hostname, Number(target.port || 6379), HOLD_MS);
    const url = new URL(REDIS_URL!);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    viaProxy = url.toString();
    admin = createClient({ url: REDIS_URL }) as RedisClientType;
    await admin.connect();
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    if (keys.length > 0) await admin?.del(keys);
    admin?.destroy();
    await proxy?.close();
    await upstream?.close();
  });

  it('answers a lone miss after one Redis round trip: its write to the shared tier is passed on after the answer', async () => {
    const app = await appViaProxy();
    const text = unique('lone');
    keys.push(sharedKey(text));
    const answer = await postJson(app.url, '/transform', { data: text });
    expect(answer.status).toBe(200);
    expect(answer.headers['x-cache']).toBe('MISS');
    // When the answer arrived, the lookup had been to Redis and back; the write was still held.
    expect(commandsOn(sharedKey(text))).toEqual(['GET']);
    await eventually(async () => (await writes(app, 'written')) === 1, 'the write reached Redis');
    expect(commandsOn(sharedKey(text))).toEqual(['GET', 'SET']);
    expect(await writes(app, 'failed')).toBe(0);
  });

  it('leaves every answer in Redis for a second replica', async () => {
    const app = await appViaProxy();
    const lone = [unique('first'), unique('second')];
    const batch = [unique('b1'), unique('b2'), unique('b3')];
    keys.push(...[...lone, ...batch].map(sharedKey));
    for (const text of lone) expect((await postJson(app.url, '/transform', { data: text })).headers['x-cache']).toBe('MISS');
    expect((await postJson(app.url, '/transform/batch', { data: batch })).headers['x-cache']).toBe('MISS');
    await eventually(async () => (await writes(app, 'written')) === 5, 'every write reached Redis');

    const replica = await startTestApp({ SHOUTCLOUD_URL: upstream.url, REDIS_URL: REDIS_URL!, REDIS_TIMEOUT_MS: '2000' });
    apps.push(replica);
    await eventually(() => redisConnected(replica), 'the replica connected to Redis');
    const calls = upstream.requests;
    for (const text of [...lone, ...batch]) {
      const answer = await postJson(replica.url, '/transform', { data: text });
      expect(answer.headers['x-cache']).toBe('HIT');
      expect(answer.json()).toEqual({ data: [...text].reverse().join('').toUpperCase() });
    }
    expect(upstream.requests).toBe(calls);
  });

  it('lets a write still held when the app closes finish before Redis is closed', async () => {
    const app = await appViaProxy();
    const text = unique('closing');
    keys.push(sharedKey(text));
    expect((await postJson(app.url, '/transform', { data: text })).headers['x-cache']).toBe('MISS');
    expect(commandsOn(sharedKey(text))).toEqual(['GET']);
    await app.close();
    expect(commandsOn(sharedKey(text))).toEqual(['GET', 'SET']);
    expect(await admin.get(sharedKey(text))).toContain('"output"');
  });
});
