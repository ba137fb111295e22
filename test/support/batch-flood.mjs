// 1,000 concurrent maximum-size batches (100 new texts of 1,300 characters, ~130 KB each), sent
// from a process of its own so that the prober's process stays idle. Prints the outcomes as JSON.
//   node test/support/batch-flood.mjs <url>
import { Agent, request } from 'node:http';

const url = process.argv[2];
const stamp = Date.now();
const body = JSON.stringify({ data: Array.from({ length: 100 }, (_, k) => `${stamp}-${k}`.padEnd(1300, 'y')) });
const agent = new Agent({ keepAlive: true, maxSockets: 1000 });
const outcomes = {};
const count = (key) => (outcomes[key] = (outcomes[key] ?? 0) + 1);
await Promise.all(
  Array.from(
    { length: 1000 },
    () =>
      new Promise((resolve) => {
        const outgoing = request(`${url}/transform/batch`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
          count(response.statusCode);
          response.resume().on('end', resolve);
        });
        outgoing.setTimeout(60_000, () => outgoing.destroy());
        outgoing.on('error', () => {
          count('reset');
          resolve();
        });
        outgoing.end(body);
      }),
  ),
);
agent.destroy();
process.stdout.write(JSON.stringify(outcomes));
