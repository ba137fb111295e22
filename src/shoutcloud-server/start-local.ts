import { exitIfAddressInUse, requireNodeMajor } from '../startup-checks.js';

// `npm start`: the API plus the bundled Shoutcloud-compatible server on loopback, so it runs on
// a machine with no internet. The upstream lives in this process and goes down with it.
requireNodeMajor('transform-api');
const { startShoutcloudServer } = await import('./shoutcloud-server.js');
const address = { port: Number(process.env.SHOUTCLOUD_SERVER_PORT ?? 0), host: '127.0.0.1', portVariable: 'SHOUTCLOUD_SERVER_PORT' };
const upstream = await startShoutcloudServer({ ...address, control: true }).catch((error: unknown) => {
  exitIfAddressInUse('the bundled Shoutcloud-compatible server', error, address);
  throw error;
});
process.env.SHOUTCLOUD_URL = upstream.url;
process.env.LOG_FORMAT ??= process.stdout.isTTY ? 'pretty' : 'json';
// A development server: reachable from this machine only, unless HOST says otherwise. The
// environment's own default (all interfaces) is what the image and the deployment run with.
if (!process.env.HOST?.trim()) process.env.HOST = '127.0.0.1';
await import('../main.js');
