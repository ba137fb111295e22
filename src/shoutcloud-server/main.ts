import { startShoutcloudServer } from './shoutcloud-server.js';

// Stand-alone Shoutcloud-compatible server, for self-hosting and local runs:
//   PORT=8080 HOST=0.0.0.0 node dist/shoutcloud-server/main.js
// SHOUTCLOUD_SERVER_CONTROL=on also serves /__control/* (faults and counters): never in production.
const server = await startShoutcloudServer({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '0.0.0.0',
  control: process.env.SHOUTCLOUD_SERVER_CONTROL === 'on',
});
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'Shoutcloud-compatible server listening', url: server.url })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
