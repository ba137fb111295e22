import { startShoutcloudServer } from './shoutcloud-server.js';

// `npm start`: the API plus the bundled Shoutcloud-compatible server on loopback, so it runs on
// a machine with no internet. The upstream lives in this process and goes down with it.
const upstream = await startShoutcloudServer({
  port: Number(process.env.SHOUTCLOUD_SERVER_PORT ?? 0),
  host: '127.0.0.1',
  control: true,
});
process.env.SHOUTCLOUD_URL = upstream.url;
process.env.LOG_FORMAT ??= process.stdout.isTTY ? 'pretty' : 'json';
await import('../main.js');
