import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { freePortOutsideEphemeralRange, startApp, startApps, type AppProcess } from './support/app-process.js';
import { postJson } from './support/http.js';
import { clientIp, eventually, redisHealth, RedisServers, sharedHit, sharedLimit, unique, type RedisServer } from './support/redis-servers.js';

// Redis servers, Sentinels and silent TCP servers of this test's own on loopback; REDIS_URL only
// says this machine has Redis to test with.
if (!process.env.REDIS_URL) {
  process.stdout.write('SKIPPED test/redis-silent.e2e-spec.ts: REDIS_URL is unset, so a silent Sentinel or Redis is not tested\n');
}
const describeWithRedis = process.env.REDIS_URL ? describe : describe.skip;

const MASTER = 'e2e-silent';
const RATE_LIMIT = 4;
// Room for a loaded machine (the floods run late in a CI run): what is under test is waiting on a
// Sentinel, which would take the Sentinel's whole time limit (1 s) or the whole pause.
const REDIS_TIMEOUT_MS = 500;

describeWithRedis('a silent Sentinel or Redis is given up, and never takes the shared Redis away', () => {
  const servers = new RedisServers();
  const apps: AppProcess[] = [];
  let upstream: ShoutcloudServer;
  let primary: RedisServer;
  let sentinels: RedisServer[];
  let env: Record<string, string>;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all(Array.from({ length: 4 }, () => freePortOutsideEphemeralRange()));
    primary = await servers.node(primaryPort);
    await servers.node(replicaPort, primaryPort);
    // Quorum 1: one Sentinel paused leaves the other able to act alone; no failover happens here.
    sentinels = await Promise.all(sentinelPorts.map((port) => servers.sentinel(port, primaryPort, MASTER, { downAfterMs: 1000, failoverTimeoutMs: 3000 }, 1)));
    env = {
      SHOUTCLOUD_URL: upstream.url,
      REDIS_SENTINEL_MASTER: MASTER,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      TRUST_PROXY_HOPS: '1',
    };
  }, 60_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    await servers.stopAll();
    await upstream?.close();
  });

  const onPrimary = async (app: AppProcess) => {
    const redis = await redisHealth(app);
    return redis.connected && redis.primary === primary.address;
  };

  it('a Sentinel listed first that accepts and never answers: the apps connect through the next one and share', async () => {
    const silent = await servers.silent();
    const pair = await startApps(2, { ...env, REDIS_SENTINELS: [silent.address, ...sentinels.map((s) => s.address)].join(',') });
    apps.push(...pair);
    const [a, b] = pair;
    // Giving it up takes the Sentinel time limit; without one, never.
    await eventually(async () => (await onPrimary(a)) && (await onPrimary(b)), 'both apps on the primary past the silent Sentinel', 10_000);
    expect(silent.accepted()).toBeGreaterThan(0);
    await eventually(async () => (await sharedLimit(a, b, RATE_LIMIT)).ok, 'the rate limit shared', 10_000);
    await eventually(async () => (await sharedHit(a, b)).ok, 'a shared hit', 10_000);
    for (const app of pair) {
      await eventually(async () => ((await redisHealth(app)).silentSentinels as string[] | undefined)?.includes(silent.address) ?? false, '/health names the silent Sentinel', 5000);
      expect(app.logLines().map((line) => line.msg)).toContainEqual(expect.stringMatching(new RegExp(`^Redis Sentinel ${silent.address} gave no answer`)));
    }
    await Promise.all(pair.map((app) => app.stop('SIGKILL')));
  }, 60_000);

  it('the first Sentinel paused (SIGSTOP) while the primary and the second answer: the shared tier and rate limit stay on', async () => {
    const pair = await startApps(2, { ...env, REDIS_SENTINELS: sentinels.map((s) => s.address).join(',') });
    apps.push(...pair);
    const [a, b] = pair;
    await eventually(async () => (await onPrimary(a)) && (await onPrimary(b)), 'both apps on the primary');
    await eventually(async () => (await sharedLimit(a, b, RATE_LIMIT)).ok, 'the rate limit shared');
    const pausedAt = new Date().toISOString();
    sentinels[0].child.kill('SIGSTOP');
    const results: Array<{ what: string; ok: boolean; statuses: number[] }> = [];
    try {
      // Longer than several rounds of asking the Sentinels, and than the paused one's time limit.
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        results.push({ what: 'hit', ...(await sharedHit(a, b)) }, { what: 'limit', ...(await sharedLimit(a, b, RATE_LIMIT)) });
      }
      for (const app of pair) expect(await redisHealth(app)).toMatchObject({ connected: true, primary: primary.address, silentSentinels: [sentinels[0].address] });
    } finally {
      sentinels[0].child.kill('SIGCONT');
    }
    expect(results.length).toBeGreaterThanOrEqual(4);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    // Nothing but the Sentinel's silence in the log: no outage, no breaker, no per-replica counting.
    // The silence may have been logged just before the pause: a process the machine starves for a
    // second finds its question to a Sentinel timed out, and that Sentinel stays silent from then on.
    const silence = new RegExp(`^Redis Sentinel ${sentinels[0].address} gave no answer`);
    for (const app of pair) {
      const lines = app.logLines().filter((line) => String(line.time) >= pausedAt && line.level !== 'info' && line.level !== 'debug');
      expect(lines.map((line) => String(line.msg)).filter((msg) => !silence.test(msg))).toEqual([]);
      expect(app.logLines().map((line) => line.msg)).toContainEqual(expect.stringMatching(silence));
    }
  }, 60_000);

  it('a silent Redis at REDIS_URL: reported in /health and the log, retried, and the app answers meanwhile', async () => {
    const silent = await servers.silent();
    const app = await startApp({ SHOUTCLOUD_URL: upstream.url, REDIS_URL: `redis://${silent.address}`, REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS) });
    apps.push(app);
    const answered = await postJson(app.url, '/transform', { data: unique('alone') }, clientIp());
    expect(answered.status).toBe(200);
    await eventually(async () => /did not answer the handshake/.test((await redisHealth(app)).error ?? ''), '/health says why', 15_000);
    expect(await redisHealth(app)).toMatchObject({ via: 'url', connected: false, primary: silent.address });
    expect(app.logLines()).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: expect.stringMatching(new RegExp(`^Redis unreachable \\(${silent.address} accepted the connection but did not answer the handshake`)) }),
    );
    // Dialled again, and still answering meanwhile.
    await eventually(async () => silent.accepted() >= 2, 'a new connection', 15_000);
    expect((await postJson(app.url, '/transform', { data: unique('still') }, clientIp())).status).toBe(200);
  }, 60_000);
});
