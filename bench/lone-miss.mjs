// Lone misses with the shared Redis a round trip away: Redis reached through a proxy that holds
// every reply --hold-ms, one request at a time, each for a new text (X-Cache: MISS). Per build:
// median, p90 and min latency. See bench/README.md.
//
//   node bench/lone-miss.mjs [--previous=<another build>/dist/main.js] [--hold-ms=40] [--misses=60]
//     [--runs=3] [--redis=redis://127.0.0.1:6379]
//
// The builds take turns, a fresh process each run. Keys written are deleted at the end.
import { createClient } from '@keyv/redis';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { nonce } from './lib/load.mjs';
import { SERVICE_MAIN, SHOUTCLOUD_MAIN, httpCall, requireBuild, startProcess } from './lib/processes.mjs';

const { values: args } = parseArgs({
  options: {
    previous: { type: 'string' },
    'hold-ms': { type: 'string', default: '40' },
    misses: { type: 'string', default: '60' },
    runs: { type: 'string', default: '3' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
  },
});
const holdMs = Number(args['hold-ms']);
requireBuild();
const builds = [['this build', SERVICE_MAIN], ...(args.previous ? [['previous', resolve(args.previous)]] : [])];

// Replies held holdMs each; timers of one delay fire in order, so the stream keeps its order. No
// Nagle delay, as between node-redis and Redis themselves.
const target = new URL(args.redis);
const proxy = createServer((client) => {
  const redis = connect(Number(target.port || 6379), target.hostname);
  client.setNoDelay(true);
  redis.setNoDelay(true);
  client.pipe(redis);
  redis.on('data', (chunk) => setTimeout(() => client.destroyed || client.write(chunk), holdMs));
  for (const socket of [client, redis]) socket.on('error', () => socket.destroy()).on('close', () => (client.destroy(), redis.destroy()));
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const viaProxy = new URL(args.redis);
viaProxy.hostname = '127.0.0.1';
viaProxy.port = String(proxy.address().port);

const upstream = await startProcess({ name: 'shoutcloud-server', script: SHOUTCLOUD_MAIN, readyPath: '/__control/stats', env: { SHOUTCLOUD_SERVER_CONTROL: 'on' } });
const admin = createClient({ url: args.redis });
await admin.connect();
const keys = [];
const sharedKey = (text) => `transform-api:shout:v4:${createHash('sha256').update([...text].reverse().join('')).digest('base64url')}`;

async function run(script) {
  const env = { SHOUTCLOUD_URL: upstream.url, REDIS_URL: viaProxy.toString(), REDIS_TIMEOUT_MS: '200', LOG_LEVEL: 'warn' };
  const service = await startProcess({ name: 'service', script, env });
  for (let i = 0; i < 200 && !(await httpCall(`${service.url}/health`)).text.includes('"connected":true'); i++) await new Promise((r) => setTimeout(r, 50));
  const times = [];
  for (let i = 0; i < Number(args.misses); i++) {
    const text = `lone ${nonce()}`;
    keys.push(sharedKey(text));
    const started = performance.now();
    const answer = await httpCall(`${service.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: text }) });
    times.push(performance.now() - started);
    if (answer.headers['x-cache'] !== 'MISS') throw new Error(`expected a MISS, got ${answer.status} ${answer.headers['x-cache']}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await service.stop();
  return times;
}

const results = new Map(builds.map(([label]) => [label, []]));
for (let runIndex = 0; runIndex < Number(args.runs); runIndex++) for (const [label, script] of builds) results.get(label).push(...(await run(script)));
for (const [label, times] of results) {
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
  process.stdout.write(`${label}: ${times.length} lone misses, Redis replies held ${holdMs} ms: median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${times[0].toFixed(1)} ms\n`);
}
for (let i = 0; i < keys.length; i += 100) await admin.del(keys.slice(i, i + 100));
admin.destroy();
await upstream.stop();
proxy.close();
