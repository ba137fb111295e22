import { exitIfAddressInUse, requireNodeMajor } from '../startup-checks.js';

// Stand-alone Shoutcloud-compatible server, for self-hosting and local runs:
//   PORT=8080 HOST=0.0.0.0 node dist/shoutcloud-server/main.js
// SHOUTCLOUD_SERVER_CONTROL=on also serves /__control/* (faults and counters): never in production.
requireNodeMajor('shoutcloud-server');
const { startShoutcloudServer } = await import('./shoutcloud-server.js');
const address = { port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '0.0.0.0', portVariable: 'PORT' };
const server = await startShoutcloudServer({ ...address, control: process.env.SHOUTCLOUD_SERVER_CONTROL === 'on' }).catch((error: unknown) => {
  exitIfAddressInUse('shoutcloud-server', error, address);
  throw error;
});
process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'Shoutcloud-compatible server listening', url: server.url })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
