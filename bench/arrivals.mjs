// Misses arriving spread out in time: an open-loop Poisson stream of distinct new texts at a fixed
// rate, from a client that never waits for an answer before sending the next request, in front of
// the bundled Shoutcloud-compatible server at several latencies. Per build and setting: upstream
// requests per 1,000 misses, request p50 and p99 (from each request's scheduled send time, so a
// client falling behind counts against the target), and a lone-miss latency probe. See
// bench/README.md.
//
//   node bench/arrivals.mjs [--previous=<another build>/dist/main.js] [--rate=2000] [--count=1000]
//     [--latencies=20,50,150] [--runs=3] [--warmup=1000] [--probes=50] [--variants=batcher,off,...] [--out=DIR]
//
// Variants, interleaved in each run: this build (dist/main.js) with its defaults; with
// SHOUTCLOUD_MAX_CALLS_IN_FLIGHT=2; with SHOUTCLOUD_COALESCE=off; and `--previous`'s build with
// its defaults. Every cell is a fresh process (nothing learned by the hedge from another latency),
// warmed by a short stream of the same shape before the measured one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { nonce } from './lib/load.mjs';
import { ROOT, SERVICE_MAIN, SHOUTCLOUD_MAIN, httpCall, requireBuild, shoutcloudControl, startProcess } from './lib/processes.mjs';

const { values: args } = parseArgs({
  options: {
    previous: { type: 'string' },
    rate: { type: 'string', default: '2000' },
    count: { type: 'string', default: '1000' },
    latencies: { type: 'string', default: '20,50,150' },
    runs: { type: 'string', default: '3' },
    probes: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '1000' },
    variants: { type: 'string' },
    out: { type: 'string', default: 'artifacts/bench' },
  },
});
const options = {
  rate: Number(args.rate),
  count: Number(args.count),
  latencies: args.latencies.split(',').map(Number),
  runs: Number(args.runs),
  probes: Number(args.probes),
  warmup: Number(args.warmup),
  outDir: resolve(ROOT, args.out),
};

const ALL_VARIANTS = [
  { id: 'batcher', label: 'batcher (defaults)', script: SERVICE_MAIN, env: {} },
  { id: 'batcher-2', label: 'batcher, 2 calls in flight', script: SERVICE_MAIN, env: { SHOUTCLOUD_MAX_CALLS_IN_FLIGHT: '2' } },
  { id: 'off', label: 'SHOUTCLOUD_COALESCE=off', script: SERVICE_MAIN, env: { SHOUTCLOUD_COALESCE: 'off' } },
  ...(args.previous ? [{ id: 'previous', label: `previous build's coalescer (${args.previous})`, script: resolve(args.previous), env: {} }] : []),
];
const VARIANTS = args.variants ? ALL_VARIANTS.filter((variant) => args.variants.split(',').includes(variant.id)) : ALL_VARIANTS;

const log = (message) => process.stderr.write(`[arrivals] ${message}\n`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const quantile = (values, q) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const median = (values) => quantile(values, 0.5);

// Grapheme reversal then Shoutcloud's per-code-point capitals: for these inputs JavaScript's
// toUpperCase agrees with Go's simple case mapping, except that "ß" stays "ß".
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const expectedFor = (text) => [...segmenter.segment(text)].map((s) => s.segment).reverse().join('').replace(/[^ß]+/g, (run) => run.toUpperCase());

/** `POST /transform` on `agent`; resolves with the status and the body, never rejects. */
function transform(agent, url, data) {
  const body = JSON.stringify({ data });
  return new Promise((done) => {
    const outgoing = request(
      `${url}/transform`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => done({ status: response.statusCode, text }));
        response.on('error', (error) => done({ status: 0, text: String(error) }));
      },
    );
    outgoing.on('error', (error) => done({ status: 0, text: String(error) }));
    outgoing.end(body);
  });
}

/**
 * Sends `inputs` as a Poisson stream of `rate` requests a second, each when it is due whatever the
 * answers so far. Latency is from the request's due time to its answer's last byte.
 */
async function poissonStream(agent, url, inputs, rate) {
  const started = performance.now();
  let dueMs = 0;
  const sent = [];
  for (const input of inputs) {
    dueMs += (-Math.log(1 - Math.random()) * 1000) / rate;
    const due = started + dueMs;
    const waitMs = due - performance.now();
    if (waitMs >= 1) await sleep(waitMs);
    sent.push(transform(agent, url, input).then((answer) => ({ ...answer, latencyMs: performance.now() - due, input })));
  }
  const answers = await Promise.all(sent);
  return { answers, wallMs: performance.now() - started };
}

async function metricValue(url, name) {
  const { text } = await httpCall(`${url}/metrics`);
  return Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
}

/** One variant at one latency, on a fresh process: warm-up stream, then the measured one. */
async function streamCell(variant, latencyMs, control) {
  const service = await startProcess({ name: variant.id, script: variant.script, env: { ...upstreamEnv, LOG_LEVEL: 'warn', ...variant.env } });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  try {
    await Promise.all(Array.from({ length: 500 }, () => transform(agent, service.url, '')));
    await control.setLatency(latencyMs);
    const tag = nonce();
    await poissonStream(agent, service.url, Array.from({ length: options.warmup }, (_, i) => `warm ${tag} ${i}`), options.rate);
    await sleep(1000);
    await control.reset();
    await control.setLatency(latencyMs);
    const hedgesBefore = await metricValue(service.metricsUrl, 'shoutcloud_hedges_total');
    const inputs = Array.from({ length: options.count }, (_, i) => `arrival ${tag} ${i} ß😀e\u0301`);
    const { answers, wallMs } = await poissonStream(agent, service.url, inputs, options.rate);
    const requests = await control.requests();
    const hedges = (await metricValue(service.metricsUrl, 'shoutcloud_hedges_total')) - hedgesBefore;
    const wrong = answers.filter((answer) => answer.status !== 200 || answer.text !== JSON.stringify({ data: expectedFor(answer.input) })).length;
    const latencies = answers.map((answer) => answer.latencyMs);
    return {
      upstreamPer1000: (requests * 1000) / options.count,
      hedges,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      wallMs,
      wrong,
      load: loadavg()[0],
    };
  } finally {
    agent.destroy();
    await service.stop();
  }
}

/** Lone misses, one at a time, at 0 ms and then 150 ms upstream: the median of each. */
async function probeCell(variant, control) {
  const service = await startProcess({ name: variant.id, script: variant.script, env: { ...upstreamEnv, LOG_LEVEL: 'warn', ...variant.env } });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const tag = nonce();
  const lone = async (label, count) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const answer = await transform(agent, service.url, `${label} ${tag} ${i}`);
      times.push(performance.now() - started);
      if (answer.status !== 200) throw new Error(`${variant.id}: lone miss answered ${answer.status}: ${answer.text}`);
      await sleep(5);
    }
    return times;
  };
  try {
    await control.setLatency(0);
    await lone('warm', 50);
    const at0 = await lone('probe0', options.probes);
    await control.setLatency(150);
    const at150 = await lone('probe150', options.probes);
    return { lone0: median(at0), lone150: median(at150) };
  } finally {
    agent.destroy();
    await service.stop();
  }
}

let upstreamEnv;

async function main() {
  requireBuild();
  mkdirSync(options.outDir, { recursive: true });
  const loadAtStart = loadavg();
  const shoutcloud = await startProcess({ name: 'Shoutcloud-compatible server', script: SHOUTCLOUD_MAIN, env: { SHOUTCLOUD_SERVER_CONTROL: 'on' }, readyPath: '/__control/stats' });
  upstreamEnv = { SHOUTCLOUD_URL: shoutcloud.url };
  const control = shoutcloudControl(shoutcloud.url);
  const cells = {};
  try {
    for (let run = 0; run < options.runs; run++) {
      for (const latencyMs of options.latencies) {
        for (const variant of VARIANTS) {
          const cell = await streamCell(variant, latencyMs, control);
          log(`run ${run + 1}, ${latencyMs} ms, ${variant.id}: ${JSON.stringify(cell)}`);
          ((cells[variant.id] ??= {})[latencyMs] ??= []).push(cell);
        }
      }
    }
    for (const variant of VARIANTS) {
      const probe = await probeCell(variant, control);
      log(`lone misses, ${variant.id}: ${JSON.stringify(probe)}`);
      cells[variant.id].probe = probe;
    }
  } finally {
    await shoutcloud.stop();
  }

  const fmt = (n) => (Number.isFinite(n) ? (n >= 100 ? String(Math.round(n)) : n.toFixed(1)) : '—');
  const header = ['variant', ...options.latencies.map((l) => `${l} ms: calls/1,000 · p50 · p99 ms`), 'wrong', 'lone miss median at 0 / 150 ms'];
  const lines = VARIANTS.map((variant) => {
    const byLatency = options.latencies.map((l) => {
      const runs = cells[variant.id][l];
      return `${fmt(median(runs.map((r) => r.upstreamPer1000)))} · ${fmt(median(runs.map((r) => r.p50)))} · ${fmt(median(runs.map((r) => r.p99)))}`;
    });
    const wrong = options.latencies.reduce((sum, l) => sum + cells[variant.id][l].reduce((s, r) => s + r.wrong, 0), 0);
    const { probe } = cells[variant.id];
    return [variant.label, ...byLatency, String(wrong), `${fmt(probe.lone0)} / ${fmt(probe.lone150)}`];
  });
  const table = [header, header.map(() => '---'), ...lines].map((cellsOfLine) => `| ${cellsOfLine.join(' | ')} |`).join('\n');
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgAtStart: loadAtStart, loadavgAtEnd: loadavg() };
  const generatedAt = new Date().toISOString();
  const command = `node bench/arrivals.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const notes = `${options.count} distinct new inputs per cell at ${options.rate}/s (Poisson), medians of ${options.runs} interleaved run(s); calls/1,000: upstream HTTP requests (hedges included) per 1,000 misses; wrong: answers not 200 with the reference body, over all runs. Machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${machine.loadavgAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end.`;
  writeFileSync(resolve(options.outDir, 'arrivals.json'), `${JSON.stringify({ generatedAt, command, options, machine, cells }, null, 2)}\n`);
  writeFileSync(resolve(options.outDir, 'arrivals.md'), `# Arrivals, ${generatedAt}\n\n\`${command}\`\n\n${table}\n\n${notes}\n`);
  process.stdout.write(`\n${table}\n\n${notes}\n`);
}

await main();
process.exit(0);
