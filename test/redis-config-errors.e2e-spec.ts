import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { freePort, startApp, type AppProcess } from './support/app-process.js';
import { postJson, send } from './support/http.js';
import { clientIp, eventually, redisHealth, RedisServers, unique } from './support/redis-servers.js';

// A Redis of this test's own that requires a password, and the machine's Redis (REDIS_URL) asked
// for what it does not have: nothing is written to it.
if (!process.env.REDIS_URL) {
  process.stdout.write('SKIPPED test/redis-config-errors.e2e-spec.ts: REDIS_URL is unset, so Redis refusing the configuration is not tested\n');
}
const describeWithRedis = process.env.REDIS_URL ? describe : describe.skip;

describeWithRedis('Redis refusing the configuration is named as a configuration problem, not an outage', () => {
  const servers = new RedisServers();
  let upstream: ShoutcloudServer;
  let machineRedis: URL;
  let locked: string;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    upstream = await startShoutcloudServer();
    machineRedis = new URL(process.env.REDIS_URL!);
    const port = await freePort();
    locked = (await servers.node(port, undefined, ['--requirepass', 'e2e-secret'])).address;
  }, 30_000);

  afterEach(async () => {
    await app?.stop('SIGKILL');
    app = undefined;
  });

  afterAll(async () => {
    await servers.stopAll();
    await upstream?.close();
  });

  const machine = () => `redis://${machineRedis.host}`;

  it.each([
    ['a database the server does not have', () => ({ REDIS_URL: `${machine()}/99` }), /DB index is out of range/, /database number in REDIS_URL/],
    ['a wrong password', () => ({ REDIS_URL: `redis://${locked}`, REDIS_PASSWORD: 'not-the-secret' }), /WRONGPASS/, /refuses the user name or password/],
    ['an ACL user the server does not know', () => ({ REDIS_URL: machine(), REDIS_USERNAME: 'e2e-nobody', REDIS_PASSWORD: 'x' }), /WRONGPASS/, /refuses the user name or password/],
    ['no password for a server that requires one', () => ({ REDIS_URL: `redis://${locked}` }), /NOAUTH/, /requires a password and none is given/],
  ])('%s: one clear line, /health says what to fix, readiness stays 200, and the app answers', async (_case, redisEnv, reason, fix) => {
    app = await startApp({ SHOUTCLOUD_URL: upstream.url, ...redisEnv() });
    const started = app;
    for (let i = 0; i < 8; i++) expect((await postJson(started.url, '/transform', { data: unique('config') }, clientIp())).status).toBe(200);
    await eventually(async () => fix.test(String((await redisHealth(started)).configurationError)), '/health names the configuration problem', 15_000);
    expect((await send(started.url, 'GET', '/health')).status).toBe(200);
    const redisLines = started.logLines().filter((line) => line.context === 'Redis' && line.level !== 'info' && line.level !== 'debug');
    expect(redisLines).toEqual([
      expect.objectContaining({ level: 'error', msg: expect.stringMatching(new RegExp(`^Redis configuration problem \\(.*${reason.source}.*\\): .*${fix.source}`)) }),
    ]);
  }, 60_000);
});
