import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startApp, startApps, type AppProcess } from './support/app-process.js';
import { postJson, send, type RawResponse } from './support/http.js';
import { clientIp, clusterNodeArgs, eventually, freeClusterPort, redisHealth, RedisServers, sharedHit, sharedLimit, sleep, unique, type RedisServer } from './support/redis-servers.js';

// Six redis-server processes of this test's own in cluster mode on loopback (three primaries, a
// replica each); REDIS_URL only says this machine has Redis to test with.
if (!process.env.REDIS_URL) {
  process.stdout.write('SKIPPED test/redis-cluster.e2e-spec.ts: REDIS_URL is unset, so Redis Cluster is not tested\n');
}
const describeWithRedis = process.env.REDIS_URL ? describe : describe.skip;

const REDIS_TIMEOUT_MS = 200;
const RATE_LIMIT = 4;
// The cluster's own timing, short for a test: a primary silent this long is failed over.
const NODE_TIMEOUT_MS = 1000;
const SHOUT_KEYS = 'transform-api:shout:*';

interface Answer {
  status: number;
  at: number;
  ms: number;
}

/** Steady mixed load on each app until stopped: a text answered before (a hit) or a new one. */
function startLoad(apps: AppProcess[]) {
  const answers: Answer[] = [];
  const newInputs: Array<{ data: string; at: number }> = [];
  let running = true;
  const loops = apps.flatMap((app) => {
    const seen: string[] = [];
    return [0, 1].map(async () => {
      const deadline = Date.now() + 60_000;
      for (let i = 0; running && i < 20_000 && Date.now() < deadline; i++) {
        const fresh = seen.length < 5 || Math.random() < 0.3;
        const data = fresh ? unique('load') : seen[Math.floor(Math.random() * seen.length)];
        const started = Date.now();
        let response: RawResponse | undefined;
        try {
          response = await postJson(app.url, '/transform', { data }, clientIp());
        } catch {
          // counted as status 0
        }
        const at = Date.now();
        answers.push({ status: response?.status ?? 0, at, ms: at - started });
        if (fresh && response?.status === 200) {
          seen.push(data);
          newInputs.push({ data, at });
        }
        await sleep(5);
      }
    });
  });
  return {
    answers,
    newInputs,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Primary address → its replica's, from `CLUSTER NODES` as `node` sees it. */
async function primariesAndReplicas(node: RedisServer): Promise<Map<string, string>> {
  const lines = String(await node.admin.sendCommand(['CLUSTER', 'NODES'])).trim().split('\n');
  const nodes = lines.map((line) => {
    const [id, address, flags, masterId] = line.split(' ');
    return { id, address: address.split('@')[0], primary: flags.includes('master') && !flags.includes('fail'), masterId };
  });
  const pairs = new Map<string, string>();
  for (const primary of nodes.filter((each) => each.primary)) {
    const replica = nodes.find((each) => each.masterId === primary.id);
    if (replica) pairs.set(primary.address, replica.address);
  }
  return pairs;
}

async function keyCount(node: RedisServer): Promise<number> {
  let count = 0;
  for await (const batch of node.admin.scanIterator({ MATCH: SHOUT_KEYS, COUNT: 1000 })) count += batch.length;
  return count;
}

const covered = async (app: AppProcess) => {
  const redis = await redisHealth(app);
  return redis.connected && redis.slotsCovered === true;
};

describeWithRedis('Redis Cluster: the shared tier and the rate limit sharded, a primary lost under load at no cost', () => {
  const servers = new RedisServers();
  const apps: AppProcess[] = [];
  let upstream: ShoutcloudServer;
  let nodes: RedisServer[];
  let a: AppProcess;
  let b: AppProcess;
  let env: Record<string, string>;
  const byAddress = (address: string) => nodes.find((node) => node.address === address)!;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    const ports: number[] = [];
    while (ports.length < 6) {
      const port = await freeClusterPort();
      if (!ports.includes(port)) ports.push(port);
    }
    nodes = await servers.cluster(ports, NODE_TIMEOUT_MS);
    env = {
      SHOUTCLOUD_URL: upstream.url,
      REDIS_CLUSTER_NODES: nodes
        .slice(0, 3)
        .map((node) => node.address)
        .join(','),
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      TRUST_PROXY_HOPS: '1',
      SHOUTCLOUD_HEDGE: 'off',
    };
    [a, b] = await startApps(2, env);
    apps.push(a, b);
    await eventually(async () => (await covered(a)) && (await covered(b)), 'both apps with every slot covered');
    await eventually(async () => (await sharedLimit(a, b, RATE_LIMIT)).ok, 'the rate limit shared');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop('SIGKILL')));
    await servers.stopAll();
    await upstream?.close();
  });

  it('spreads the shared tier over every primary, shares the rate limit, and /health says how', async () => {
    const primaries = [...(await primariesAndReplicas(nodes[0])).keys()].sort();
    for (const app of [a, b]) {
      const redis = await redisHealth(app);
      expect(redis).toMatchObject({ via: 'cluster', primary: null, connected: true, slotsCovered: true, failovers: 0, breaker: 'closed' });
      expect((redis.nodes as Array<{ address: string }>).map((node) => node.address).sort()).toEqual(primaries);
    }
    for (let i = 0; i < 12; i++) expect(await sharedHit(a, b)).toEqual({ ok: true, statuses: [200, 200] });
    for (const primary of primaries) expect(await keyCount(byAddress(primary))).toBeGreaterThan(0);
  }, 60_000);

  it('SIGKILL of a primary under load: every answer 200, every shard shared again within 5 s of the promotion', async () => {
    const pairs = await primariesAndReplicas(nodes[0]);
    const [lostAddress, replicaAddress] = [...pairs.entries()][0];
    const lost = byAddress(lostAddress);
    const replica = byAddress(replicaAddress);
    const load = startLoad([a, b]);
    await sleep(1500);
    const failedAt = Date.now();
    lost.child.kill('SIGKILL');
    await eventually(async () => /^role:master/m.test(await replica.admin.info('replication')), 'the replica promoted', 30_000);
    const promotedAt = Date.now();
    const keysAtPromotion = await keyCount(replica);
    let sharedBackAt = 0;
    const probes: number[] = [];
    while (!sharedBackAt && Date.now() < promotedAt + 15_000) {
      const hits = [];
      for (let i = 0; i < 9; i++) hits.push(await sharedHit(a, b));
      probes.push(...hits.flatMap((hit) => hit.statuses));
      const limit = await sharedLimit(a, b, RATE_LIMIT);
      probes.push(...limit.statuses.slice(0, RATE_LIMIT));
      if (hits.every((hit) => hit.ok) && limit.ok && (await covered(a)) && (await covered(b))) sharedBackAt = Date.now();
    }
    await sleep(1000);
    await load.stop();
    const promotionMs = promotedAt - failedAt;
    const sharedBackMs = sharedBackAt ? sharedBackAt - promotedAt : Number.POSITIVE_INFINITY;
    const during = load.answers.filter((answer) => answer.at >= failedAt && answer.at <= (sharedBackAt || Date.now()));
    // While the lost primary's slots fall back, the other shards' counters are still shared: the
    // rate limit's log says each way once, not once per request.
    const rateLimitLines = [a, b].map((app) => app.logLines().filter((line) => line.context === 'RateLimit' && Date.parse(String(line.time)) >= failedAt).length);
    process.stdout.write(
      `redis-cluster (primary killed): promoted ${promotionMs} ms after the kill; every shard shared again ${sharedBackMs} ms after the promotion; ` +
        `${load.answers.length} load answers, ${during.length} between the kill and the return, ` +
        `${load.answers.filter((answer) => answer.status !== 200).length} not 200; slowest ${Math.max(...load.answers.map((answer) => answer.ms))} ms; ` +
        `rate-limit log lines ${rateLimitLines.join(' and ')}\n`,
    );
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([]);
    expect(probes.every((status) => status === 200)).toBe(true);
    expect(during.length).toBeGreaterThan(0);
    expect(sharedBackMs).toBeLessThan(5000);
    for (const lines of rateLimitLines) expect(lines).toBeLessThanOrEqual(4);
    // The promoted primary takes the lost one's keys: written there after the promotion.
    expect(await keyCount(replica)).toBeGreaterThan(keysAtPromotion);
    for (const app of [a, b]) {
      expect(await redisHealth(app)).toMatchObject({ via: 'cluster', connected: true, slotsCovered: true, failovers: 1, breaker: 'closed' });
      expect((await send(app.metricsUrl, 'GET', '/metrics')).text).toMatch(/^redis_failovers_total 1$/m);
      expect(app.logLines().filter((line) => String(line.msg).startsWith(`Redis cluster node ${lostAddress} unreachable`))).toEqual([
        expect.objectContaining({ level: 'warn' }),
      ]);
      expect(app.logLines().filter((line) => String(line.msg).startsWith('Redis failover'))).toEqual([
        expect.objectContaining({ level: 'warn', msg: expect.stringContaining(`from ${lostAddress} to ${replicaAddress}`) }),
      ]);
    }
  }, 90_000);

  it('every cluster node paused (SIGSTOP): no request waits past the Redis budget, and the tier is shared again once they answer', async () => {
    const alive = nodes.filter((node) => node.child.exitCode === null && node.child.signalCode === null);
    for (const node of alive) node.child.kill('SIGSTOP');
    const durations: number[] = [];
    try {
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        for (const app of [a, b]) {
          const started = Date.now();
          const response = await postJson(app.url, '/transform', { data: unique('paused') }, clientIp());
          durations.push(Date.now() - started);
          expect(response.status).toBe(200);
        }
      }
    } finally {
      for (const node of alive) node.child.kill('SIGCONT');
    }
    // Generous: a bound on waiting, not a latency figure. Waiting on Redis would take the whole pause.
    expect(Math.max(...durations)).toBeLessThan(REDIS_TIMEOUT_MS * 10);
    await eventually(async () => (await sharedHit(a, b)).ok && (await sharedLimit(a, b, RATE_LIMIT)).ok, 'shared again once the nodes answer', 20_000);
  }, 60_000);

  it('seeds unreachable at start-up: the API starts and serves without Redis, and joins when they come', async () => {
    const port = await freeClusterPort();
    const late = await startApp({ ...env, REDIS_CLUSTER_NODES: `127.0.0.1:${port}` });
    apps.push(late);
    expect((await postJson(late.url, '/transform', { data: unique('alone') }, clientIp())).status).toBe(200);
    expect(await redisHealth(late)).toMatchObject({ via: 'cluster', connected: false, slotsCovered: false });
    // The seed comes: a node started on its port and joined to the cluster.
    const seed = await servers.node(port, undefined, clusterNodeArgs(NODE_TIMEOUT_MS));
    const member = nodes.find((node) => node.child.exitCode === null && node.child.signalCode === null)!;
    await member.admin.sendCommand(['CLUSTER', 'MEET', '127.0.0.1', String(seed.port)]);
    await eventually(async () => covered(late), 'the late app on the cluster', 30_000);
    expect(await sharedHit(late, a)).toEqual({ ok: true, statuses: [200, 200] });
  }, 90_000);
});
