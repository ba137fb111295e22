// `npm run bench`: the service's production build against two references doing the same work in
// front of the bundled Shoutcloud-compatible server: a bare NestJS-on-Fastify app (the framework's
// ceiling, bench/nest-reference.mjs) and raw node:http (the honest ceiling, bench/reference-server.mjs).
// wrk loads them in turn (A B C, A B C, ...); the table gives medians, p50/p99, ratios and the load
// average. Writes artifacts/bench/latest.{json,md}. See bench/README.md.
//
// Options (argv or env): --duration=S (BENCH_DURATION_S, 5), --runs=N (BENCH_RUNS, 3),
// --connections=N (50), --starts=N (5), --herd=N (1000), --only=id,id (BENCH_ONLY),
// --out=DIR (BENCH_OUT), --log-level=L (the service's LOG_LEVEL, warn), --smoke (1 s, 1 run, 1 start:
// proves the instrument works, nothing more). `--only=memory` runs the long memory scenario
// (bench/lib/memory.mjs), never run by default.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bodies, bodyOf, herd, load, nonce, requireWrk } from './lib/load.mjs';
import { memoryScenario } from './lib/memory.mjs';
import {
  NEST_REFERENCE_MAIN,
  REFERENCE_MAIN,
  ROOT,
  SERVICE_MAIN,
  SHOUTCLOUD_MAIN,
  buildsSeen,
  httpCall,
  requireBuild,
  rssMiB,
  shoutcloudControl,
  startProcess,
  unexpectedExits,
} from './lib/processes.mjs';
import { markdownTable } from './lib/report.mjs';
import { EMOJI_FILLER, EMOJI_HEAD, HOT_INPUT, LONG_ASCII, LONG_EMOJI, LONG_UNICODE } from './lib/texts.mjs';

const DEFAULT_SCENARIOS = ['hit', 'miss-0', 'miss-50', 'mix', 'herd', 'hit-10k', 'hit-10k-unicode', 'startup'];
// Not by default: two more minutes for the costliest texts (a hit or miss of one should stay under 2 ms of CPU).
const SCENARIOS = [...DEFAULT_SCENARIOS, 'hit-10k-emoji', 'miss-10k-emoji', 'memory'];
/** A B C: the service first, then the framework's ceiling, then the raw ceiling. */
const KINDS = ['service', 'nest', 'http'];
/** Extra settings for the service only, e.g. BENCH_SERVICE_ENV='SHOUTCLOUD_COALESCE=off' for a like-for-like miss. */
const SERVICE_ENV = Object.fromEntries((process.env.BENCH_SERVICE_ENV ?? '').split(/\s+/).filter(Boolean).map((pair) => pair.split(/=(.*)/s, 2)));

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string' },
    starts: { type: 'string' },
    herd: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'log-level': { type: 'string' },
    'memory-inputs': { type: 'string' },
    'memory-mixed-s': { type: 'string' },
    'memory-batch-s': { type: 'string' },
    'memory-batch-connections': { type: 'string' },
  },
});
const smoke = args.smoke || process.env.BENCH_SMOKE === '1';
const num = (value, env, full, quick) => Number(value ?? process.env[env] ?? (smoke ? quick : full));
const options = {
  smoke,
  // wrk takes whole seconds.
  durationS: Math.max(1, Math.round(num(args.duration, 'BENCH_DURATION_S', 5, 1))),
  runs: num(args.runs, 'BENCH_RUNS', 3, 1),
  connections: num(args.connections, 'BENCH_CONNECTIONS', 50, 50),
  starts: num(args.starts, 'BENCH_STARTS', 5, 1),
  herdSize: num(args.herd, 'BENCH_HERD', 1000, 200),
  memoryInputs: num(args['memory-inputs'], 'BENCH_MEMORY_INPUTS', 400_000, 400_000),
  memoryMixedS: num(args['memory-mixed-s'], 'BENCH_MEMORY_MIXED_S', 120, 120),
  memoryBatchS: num(args['memory-batch-s'], 'BENCH_MEMORY_BATCH_S', 60, 60),
  memoryBatchConnections: num(args['memory-batch-connections'], 'BENCH_MEMORY_BATCH_CONNECTIONS', 100, 100),
  warmupS: smoke ? 1 : 2,
  quiesceMs: smoke ? 3000 : 20_000,
  logLevel: args['log-level'] ?? process.env.BENCH_LOG_LEVEL ?? 'warn',
  only: new Set((args.only ?? process.env.BENCH_ONLY ?? DEFAULT_SCENARIOS.join(',')).split(',').map((s) => s.trim())),
  // A smoke run never overwrites the full run's table.
  outDir: resolve(ROOT, args.out ?? process.env.BENCH_OUT ?? (smoke ? 'artifacts/bench/smoke' : 'artifacts/bench')),
};
for (const id of options.only) if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario ${id}; known: ${SCENARIOS.join(', ')}`);

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const sum = (values) => values.reduce((a, b) => a + b, 0);
const settle = (msDelay) => new Promise((done) => setTimeout(done, msDelay));
const load1 = () => Number(loadavg()[0].toFixed(2));

// Grapheme reversal then Shoutcloud's per-code-point capitals; for the inputs used here (Latin
// letters, accents, emoji, Hangul, Devanagari) JavaScript's toUpperCase agrees with Go's simple
// case mapping, except that "ß" stays "ß" in Go.
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const expectedFor = (text) => [...segmenter.segment(text)].map((s) => s.segment).reverse().join('').replace(/[^ß]+/g, (run) => run.toUpperCase());

async function main() {
  const wrkVersion = requireWrk();
  requireBuild();
  mkdirSync(options.outDir, { recursive: true });
  const loadAtStart = loadavg();
  log(`mode ${smoke ? 'smoke' : 'full'}: wrk ${wrkVersion}, ${options.runs} run(s) x ${options.durationS} s, ${options.connections} connections, scenarios ${[...options.only].join(', ')}`);

  const shoutcloud = await startProcess({
    name: 'Shoutcloud-compatible server',
    script: SHOUTCLOUD_MAIN,
    env: { SHOUTCLOUD_SERVER_CONTROL: 'on' },
    readyPath: '/__control/stats',
  });
  const control = shoutcloudControl(shoutcloud.url);
  const upstreamEnv = { SHOUTCLOUD_URL: shoutcloud.url };
  const spawnTarget = (kind, extra = {}) => {
    if (kind === 'service') return startProcess({ name: 'service', script: SERVICE_MAIN, env: { ...upstreamEnv, LOG_LEVEL: options.logLevel, ...SERVICE_ENV }, ...extra });
    if (kind === 'nest') return startProcess({ name: 'bare Nest reference', script: NEST_REFERENCE_MAIN, env: upstreamEnv, ...extra });
    return startProcess({ name: 'node:http reference', script: REFERENCE_MAIN, env: upstreamEnv, ...extra });
  };

  const rows = [];
  const raw = {};
  const meta = { wrk: wrkVersion, serviceLogLevel: options.logLevel };
  try {
    const throughputIds = SCENARIOS.filter((id) => (id === 'herd' || id in LOAD_SCENARIOS) && options.only.has(id));
    if (throughputIds.length > 0) {
      const targets = {};
      try {
        for (const kind of KINDS) targets[kind] = await spawnTarget(kind);
        meta.metrics = (await httpCall(`${targets.service.metricsUrl}/metrics`).catch(() => ({ status: 0 }))).status === 200;
        for (const target of Object.values(targets)) await checkAnswers(target, control);
        await warmUp(targets, control);
        for (const id of throughputIds) {
          const row = id === 'herd' ? await herdScenario(targets, control) : await loadScenario(id, targets, control);
          raw[id] = row.runs;
          delete row.runs;
          rows.push(row);
          writeReport(rows, raw, meta, loadAtStart);
        }
      } finally {
        await Promise.all(Object.values(targets).map((t) => t.stop()));
      }
    }
    if (options.only.has('startup')) {
      rows.push(await startupScenario(spawnTarget, raw));
      writeReport(rows, raw, meta, loadAtStart);
    }
    if (options.only.has('memory')) {
      const memory = await memoryScenario({ spawnTarget, control, options, log });
      raw.memory = memory.samples;
      rows.push(...memory.rows);
      writeReport(rows, raw, meta, loadAtStart);
    }
  } finally {
    await shoutcloud.stop();
  }

  const { table, notes } = writeReport(rows, raw, meta, loadAtStart);
  process.stdout.write(`\n${table}\n\n${notes.join('\n')}\n`);
  log(`wrote ${resolve(options.outDir, 'latest.json')} and latest.md`);
}

/**
 * Writes latest.{json,md} with the rows so far: called after every row, so a run that fails late
 * (a child that dies, a start-up past its timeout) keeps what it measured.
 */
function writeReport(rows, raw, meta, loadAtStart) {
  const table = markdownTable(rows);
  const verdicts = rows.filter((row) => row.result === 'PASS' || row.result === 'MISS');
  const summary = `${verdicts.filter((row) => row.result === 'PASS').length} of ${verdicts.length} targets met`;
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgAtStart: loadAtStart, loadavg: loadavg() };
  meta.builds = buildsSeen();
  const notes = [
    `${summary}. Cells read service / bare Nest / node:http; ratios are of req/s (start-up: of time), medians of ${options.runs} interleaved run(s) of ${options.durationS} s, wrk ${meta.wrk} (1 thread, ${options.connections} connections); herd latencies are client-measured.`,
    `Service: production build (${SERVICE_MAIN.startsWith(ROOT) ? SERVICE_MAIN.slice(ROOT.length) : SERVICE_MAIN}), defaults${Object.keys(SERVICE_ENV).length ? ` but ${Object.entries(SERVICE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}, LOG_LEVEL=${options.logLevel}${meta.metrics === undefined ? '' : `, /metrics ${meta.metrics ? 'present' : 'absent'}`}. Bare Nest: bench/nest-reference.mjs. node:http: bench/reference-server.mjs.`,
    ...(meta.builds.length > 1 ? [`Warning: dist/ was rebuilt during the run (${meta.builds.length} builds measured); rows may mix builds.`] : []),
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start, ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')} at the end (column "load": 1-minute load average during each row); load generator on the same machine.`,
  ];

  const generatedAt = new Date().toISOString();
  const command = `node bench/bench.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const { only, outDir, ...shownOptions } = options;
  writeFileSync(
    resolve(outDir, 'latest.json'),
    `${JSON.stringify({ generatedAt, command, options: { ...shownOptions, only: [...only] }, machine, meta, summary, rows, runs: raw }, null, 2)}\n`,
  );
  writeFileSync(resolve(outDir, 'latest.md'), `# Benchmark, ${generatedAt}\n\n\`${command}\`\n\n${table}\n\n${notes.join('\n\n')}\n`);
  return { table, notes };
}

const post = (target, data) => httpCall(`${target.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyOf(data) });

/**
 * Every target must give the same answer to the same input before their speed means anything.
 * The service must say `application/json` exactly, as the old clients compare it; bare Nest keeps Fastify's charset.
 */
async function checkAnswers(target, control) {
  await control.reset();
  const input = `héllo wörld 👋 ${nonce()}`;
  for (const expectedCache of ['MISS', 'HIT']) {
    const res = await post(target, input);
    const type = res.headers['content-type'];
    const ok =
      res.status === 200 &&
      res.text === bodyOf(expectedFor(input)) &&
      (type === 'application/json' || (target.name.includes('Nest') && type === 'application/json; charset=utf-8')) &&
      res.headers['x-cache'] === expectedCache;
    if (!ok) throw new Error(`${target.name} answered ${res.status} ${type} X-Cache=${res.headers['x-cache']} ${res.text.slice(0, 200)}`);
  }
}

/** JIT and socket pools warm before anything is recorded. */
async function warmUp(targets, control) {
  await control.reset();
  for (const target of Object.values(targets)) {
    await post(target, HOT_INPUT);
    await load(target.url, { connections: options.connections, durationS: options.warmupS, requestSpec: bodies.fixed(HOT_INPUT) });
    await load(target.url, { connections: options.connections, durationS: options.warmupS, requestSpec: bodies.unique(`warm-${nonce()}`) });
  }
}

/**
 * Waits until no upstream call from an earlier run is still arriving (late retries would count
 * against the next run), and until the service's circuit breaker, if an overloaded run opened it,
 * has closed again: each run starts from a calm service. Bounded: a stuck state shows in the row.
 */
async function quiesce(service, control) {
  const deadline = performance.now() + options.quiesceMs;
  let before = await control.requests();
  for (;;) {
    await settle(100);
    const now = await control.requests();
    if (now === before || performance.now() > deadline) break;
    before = now;
  }
  let reported = false;
  while (performance.now() < deadline) {
    const health = await httpCall(`${service.url}/health`).catch(() => undefined);
    const breaker = health && JSON.parse(health.text)?.details?.shoutcloud?.breaker;
    if (breaker === undefined || breaker === 'closed') return;
    if (!reported) log(`  service circuit breaker is ${breaker}: waiting for it to close before the next run`);
    reported = true;
    // The breaker only moves on a call: once its half-open delay is over, a successful try closes it.
    await post(service, `probe ${nonce()}`).catch(() => undefined);
    await settle(1000);
  }
}

const LOAD_SCENARIOS = {
  hit: { scenario: 'cache hit, one input', latencyMs: 0, hot: HOT_INPUT, spec: () => bodies.fixed(HOT_INPUT) },
  'miss-0': { scenario: 'cache miss, upstream 0 ms', latencyMs: 0, spec: () => bodies.unique(`m0-${nonce()}`) },
  'miss-50': { scenario: 'cache miss, upstream 50 ms', latencyMs: 50, spec: () => bodies.unique(`m50-${nonce()}`) },
  mix: { scenario: '90/10 hit/miss mix', latencyMs: 0, hot: HOT_INPUT, spec: () => bodies.mixed(HOT_INPUT, `mix-${nonce()}`) },
  'hit-10k': { scenario: 'cache hit, 10,000 chars ASCII', latencyMs: 0, hot: LONG_ASCII, spec: () => bodies.fixed(LONG_ASCII) },
  'hit-10k-unicode': { scenario: 'cache hit, 10,000 chars Unicode', latencyMs: 0, hot: LONG_UNICODE, spec: () => bodies.fixed(LONG_UNICODE) },
  'hit-10k-emoji': { scenario: 'cache hit, 10,000 chars emoji-dense', latencyMs: 0, hot: LONG_EMOJI, spec: () => bodies.fixed(LONG_EMOJI) },
  'miss-10k-emoji': {
    scenario: 'cache miss, 10,000 chars emoji-dense, upstream 0 ms',
    latencyMs: 0,
    spec: () => bodies.uniqueWith(`e10k-${nonce()}`, EMOJI_FILLER, EMOJI_HEAD),
  },
};

/** `runs` wrk runs per target, interleaved service, Nest, http, service, Nest, http... */
async function loadScenario(id, targets, control) {
  const def = LOAD_SCENARIOS[id];
  log(`${id}: ${def.scenario}`);
  const runs = Object.fromEntries(KINDS.map((kind) => [kind, []]));
  const loads = [];
  for (let run = 0; run < options.runs; run++) {
    for (const kind of KINDS) {
      const target = targets[kind];
      await quiesce(targets.service, control);
      if (def.hot) {
        const res = await post(target, def.hot);
        if (res.status !== 200 || res.text !== bodyOf(expectedFor(def.hot))) throw new Error(`${target.name} answered ${id}'s input wrongly: ${res.status} ${res.text.slice(0, 200)}`);
      }
      await control.reset();
      await control.setLatency(def.latencyMs);
      const cpuBefore = cpuMs(target.pid);
      const result = await load(target.url, { connections: options.connections, durationS: options.durationS, requestSpec: def.spec() });
      // CPU time of the target per answer: steadier than req/s when other work shares the cores.
      result.cpuUsPerReq = result.completed > 0 ? ((cpuMs(target.pid) - cpuBefore) * 1000) / result.completed : 0;
      result.upstream = await control.requests();
      result.rssMiB = await rssMiB(target.pid);
      loads.push(load1());
      runs[kind].push(result);
      log(`  ${kind.padEnd(7)} run ${run + 1}: ${Math.round(result.reqPerSec)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${Math.round(result.cpuUsPerReq)} µs CPU/req, ${result.errors} errors, ${result.upstream} upstream, load ${loads.at(-1)}`);
    }
  }
  await control.setLatency(0);
  const row = rowOf(id, def.scenario, runs, loads);
  if (id === 'hit') {
    row.target = '≥ 0.5x Nest, p99 < 5 ms';
    row.result = verdict(row.ratioNest >= 0.5 && row.service.p99 < 5 && row.service.errors === 0);
  }
  return row;
}

function rowOf(id, scenario, runs, loads) {
  const [service, nest, http] = KINDS.map((kind) => summarise(runs[kind]));
  return {
    id,
    scenario,
    service,
    nest,
    http,
    ratioNest: service.reqPerSec / nest.reqPerSec,
    ratioHttp: service.reqPerSec / http.reqPerSec,
    load: median(loads),
    runs,
  };
}

/** utime + stime of a process so far, in ms (Linux; 0 elsewhere). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // fields[11], fields[12]: utime, stime (fields 14 and 15 of proc(5)), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

const verdict = (met) => (met ? 'PASS' : 'MISS');

function summarise(runs) {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    p99Measured: median(runs.map((r) => r.p99Measured)),
    errors: sum(runs.map((r) => r.errors)),
    upstream: median(runs.map((r) => r.upstream)),
    cpuUsPerReq: median(runs.map((r) => r.cpuUsPerReq ?? 0)),
    rssMiB: runs.at(-1)?.rssMiB,
  };
}

/** The service's `shoutcloud_hedges_total`. */
async function hedges(service) {
  const { text } = await httpCall(`${service.metricsUrl}/metrics`);
  return Number(/^shoutcloud_hedges_total (\d+)/m.exec(text)?.[1] ?? 0);
}

/** `herdSize` requests at once for one new input, Shoutcloud answering in 200 ms: one upstream call. */
async function herdScenario(targets, control) {
  log(`herd: ${options.herdSize} concurrent requests for one new input, upstream 200 ms`);
  const runs = Object.fromEntries(KINDS.map((kind) => [kind, []]));
  const loads = [];
  for (let run = 0; run < options.runs; run++) {
    for (const kind of KINDS) {
      await quiesce(targets.service, control);
      await control.reset();
      await control.setLatency(200);
      const input = `herd ${nonce()} stampede`;
      const hedgesBefore = kind === 'service' ? await hedges(targets.service) : 0;
      const result = await herd(targets[kind].url, { count: options.herdSize, input, expected: expectedFor(input) });
      result.upstream = await control.requests();
      result.hedges = kind === 'service' ? (await hedges(targets.service)) - hedgesBefore : 0;
      result.rssMiB = await rssMiB(targets[kind].pid);
      loads.push(load1());
      runs[kind].push(result);
      log(`  ${kind.padEnd(7)} run ${run + 1}: ${result.ok}/${options.herdSize} OK in ${Math.round(result.wallMs)} ms, ${result.upstream} upstream (${result.hedges} of them hedges), ${JSON.stringify(result.statuses)}`);
    }
  }
  await control.setLatency(0);
  const row = rowOf('herd', `herd: ${options.herdSize.toLocaleString('en-US')} x one new input, upstream 200 ms`, runs, loads);
  // Single-flight: one call for the herd. The previous scenarios taught the service an upstream
  // answering in about a millisecond, so a 200 ms try is a slow one and may be hedged (a second
  // try of the same call, counted apart); an upstream slow all along is never hedged.
  row.target = `1 upstream call (+ hedges), ${options.herdSize}x 200`;
  row.hedges = median(runs.service.map((r) => r.hedges));
  row.scenario += `; service's hedges: ${row.hedges}`;
  row.result = verdict(runs.service.every((r) => r.upstream - r.hedges === 1 && r.ok === options.herdSize));
  return row;
}

/** Spawn to first `/health` 200 of the production build, interleaved, median of `starts`. */
async function startupScenario(spawnTarget, raw) {
  log(`startup: ${options.starts} start(s) each`);
  const runs = Object.fromEntries(KINDS.map((kind) => [kind, []]));
  const loads = [];
  for (let i = 0; i < options.starts; i++) {
    for (const kind of KINDS) {
      // Generous: a start-up that is slow is a figure, not a failure.
      const target = await spawnTarget(kind, { readyTimeoutMs: 120_000 });
      const rss = await rssMiB(target.pid);
      await target.stop();
      loads.push(load1());
      runs[kind].push({ startMs: target.startMs, rssMiB: rss });
      log(`  ${kind.padEnd(7)} start ${i + 1}: ${Math.round(target.startMs)} ms`);
    }
  }
  raw.startup = runs;
  const side = (list) => ({ p50: median(list.map((r) => r.startMs)), p99: Math.max(...list.map((r) => r.startMs)), rssMiB: median(list.map((r) => r.rssMiB)) });
  const [service, nest, http] = KINDS.map((kind) => side(runs[kind]));
  return {
    id: 'startup',
    scenario: 'start-up to /health 200 ms (p50: median, p99: slowest)',
    service,
    nest,
    http,
    ratioNest: service.p50 / nest.p50,
    ratioHttp: service.p50 / http.p50,
    ratioOf: 'time',
    load: median(loads),
    target: 'median < 800 ms',
    result: verdict(service.p50 < 800),
  };
}

main().catch((error) => {
  const died = unexpectedExits();
  process.stderr.write(`bench failed: ${error.message}\n${died.length ? `children that died during the run: ${died.join('; ')}\n` : ''}`);
  process.exitCode = 1;
});
