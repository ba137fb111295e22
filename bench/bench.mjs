// `npm run bench`: the service's production build against a plain `node:http` reference doing the
// same work, both in front of the bundled Shoutcloud-compatible server, loaded in turn (A B A B)
// by autocannon. Prints one table, writes it to artifacts/bench/latest.{json,md}. See bench/README.md.
//
// Options (argv or env): --duration=S (BENCH_DURATION_S, 5), --runs=N (BENCH_RUNS, 3),
// --connections=N (50), --memory-inputs=N (BENCH_MEMORY_INPUTS, 200000), --starts=N (5),
// --only=id,id (scenario ids), --out=DIR (BENCH_OUT, artifacts/bench; smoke: artifacts/bench/smoke),
// --keep-logs (keep the service's request log, artifacts/bench/service.log),
// BENCH_SERVICE_NODE_OPTIONS (NODE_OPTIONS for the service only; unset by default),
// --smoke (1 s per scenario, 1 run, 2000 memory inputs: only proves the table comes out).
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bodies, bodyOf, cannon, herd, nonce } from './lib/load.mjs';
import {
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

const SCENARIOS = ['hit', 'miss-0', 'miss-50', 'mix', 'herd', 'hit-10k', 'hit-10k-unicode', 'memory', 'startup'];

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    runs: { type: 'string' },
    connections: { type: 'string' },
    'memory-inputs': { type: 'string' },
    'memory-chars': { type: 'string' },
    starts: { type: 'string' },
    herd: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const smoke = args.smoke || process.env.BENCH_SMOKE === '1';
const num = (value, env, full, quick) => Number(value ?? process.env[env] ?? (smoke ? quick : full));
const options = {
  smoke,
  durationS: num(args.duration, 'BENCH_DURATION_S', 5, 1),
  runs: num(args.runs, 'BENCH_RUNS', 3, 1),
  connections: num(args.connections, 'BENCH_CONNECTIONS', 50, 50),
  memoryInputs: num(args['memory-inputs'], 'BENCH_MEMORY_INPUTS', 200_000, 2000),
  memoryChars: num(args['memory-chars'], 'BENCH_MEMORY_CHARS', 100, 100),
  starts: num(args.starts, 'BENCH_STARTS', 5, 1),
  herdSize: num(args.herd, 'BENCH_HERD', 1000, 1000),
  warmupS: smoke ? 0.2 : 2,
  quiesceMs: smoke ? 3000 : 20_000,
  only: new Set((args.only ?? process.env.BENCH_ONLY ?? SCENARIOS.join(',')).split(',').map((s) => s.trim())),
  // A smoke run never overwrites the full run's table.
  outDir: resolve(ROOT, args.out ?? process.env.BENCH_OUT ?? (smoke ? 'artifacts/bench/smoke' : 'artifacts/bench')),
  keepLogs: args['keep-logs'],
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

// Grapheme reversal then Shoutcloud's per-code-point capitals; for the inputs used here (Latin
// letters, accents, emoji) JavaScript's toUpperCase agrees with Go's simple case mapping.
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const expectedFor = (text) => [...segmenter.segment(text)].map((s) => s.segment).reverse().join('').toUpperCase();

function tenThousand(unit) {
  let text = '';
  let codePoints = 0;
  for (const ch of unit.repeat(Math.ceil(10_000 / [...unit].length) + 1)) {
    if (codePoints === 10_000) break;
    text += ch;
    codePoints++;
  }
  return text;
}
const HOT_INPUT = 'Hello, world! The quick brown fox jumps over the lazy dog.';
const LONG_ASCII = tenThousand('The quick brown fox jumps over the lazy dog. ');
// Accents and an emoji with a skin tone: the segmenter path (no ASCII fast path), 10,000 code points.
const LONG_UNICODE = tenThousand('Grüße aus Köln, naïve café 👋🏽 ');

async function main() {
  requireBuild();
  mkdirSync(options.outDir, { recursive: true });
  const loadAtStart = loadavg();
  log(`mode ${smoke ? 'smoke' : 'full'}: ${options.runs} run(s) x ${options.durationS} s, ${options.connections} connections, scenarios ${[...options.only].join(', ')}`);

  const shoutcloud = await startProcess({
    name: 'Shoutcloud-compatible server',
    script: SHOUTCLOUD_MAIN,
    env: { SHOUTCLOUD_SERVER_CONTROL: 'on' },
    readyPath: '/__control/stats',
  });
  const control = shoutcloudControl(shoutcloud.url);
  const targetEnv = { SHOUTCLOUD_URL: shoutcloud.url, LOG_LEVEL: 'info' };
  // E.g. `--max-old-space-size=128` to mimic a pod's memory limit (V8 sizes its heap from it).
  const serviceEnv = { ...targetEnv, ...(process.env.BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS } : {}) };
  const serviceLog = resolve(options.outDir, 'service.log');
  const spawnTarget = (kind, logFile) =>
    kind === 'service'
      ? startProcess({ name: 'service', script: SERVICE_MAIN, env: serviceEnv, logFile })
      : startProcess({ name: 'reference', script: REFERENCE_MAIN, env: targetEnv });

  let failed = true;
  const rows = [];
  const raw = {};
  const meta = {};
  try {
    const throughputIds = ['hit', 'miss-0', 'miss-50', 'mix', 'herd', 'hit-10k', 'hit-10k-unicode'].filter((id) => options.only.has(id));
    if (throughputIds.length > 0) {
      const targets = { service: await spawnTarget('service', serviceLog), reference: await spawnTarget('reference') };
      try {
        meta.service = await describeService(targets.service);
        for (const target of Object.values(targets)) await checkAnswers(target, control);
        let served = await warmUp(targets, control);
        for (const id of throughputIds) {
          const row = id === 'herd' ? await herdScenario(targets, control) : await loadScenario(id, targets, control);
          raw[id] = row.runs;
          delete row.runs;
          served += row.servedByService ?? 0;
          delete row.servedByService;
          rows.push(row);
        }
        await targets.service.stop();
        meta.service.requestLog = await logVolume(serviceLog, served);
        failed = false;
      } finally {
        await Promise.all(Object.values(targets).map((t) => t.stop()));
        if (!options.keepLogs && !failed) rmSync(serviceLog, { force: true });
      }
    }
    if (options.only.has('memory')) rows.push(...(await memoryScenario(spawnTarget, control, raw)));
    if (options.only.has('startup')) rows.push(await startupScenario(spawnTarget, raw));
  } finally {
    await shoutcloud.stop();
  }

  const table = markdownTable(rows);
  const verdicts = rows.filter((row) => row.result === 'PASS' || row.result === 'MISS');
  const summary = `${verdicts.filter((row) => row.result === 'PASS').length} of ${verdicts.length} targets met`;
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, loadavgAtStart: loadAtStart, loadavg: loadavg() };
  meta.builds = buildsSeen();
  const notes = [
    `${summary}. Service/reference ratio of req/s per row (start-up: of time). Latency from autocannon is in whole ms; herd latencies are client-measured.`,
    `Service: production build (dist/), LOG_LEVEL=info${serviceEnv.NODE_OPTIONS ? `, NODE_OPTIONS=${serviceEnv.NODE_OPTIONS}` : ''}, /metrics ${meta.service?.metrics ? 'present' : 'absent'}${meta.service?.requestLog ? `, ${meta.service.requestLog.linesPerRequest.toFixed(2)} log lines per request` : ''}. Reference: bench/reference-server.mjs.`,
    ...(meta.builds.length > 1 ? [`Warning: dist/ was rebuilt during the run (${meta.builds.length} builds measured); rows may mix builds.`] : []),
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, load average ${loadAtStart[0].toFixed(2)} at the start, ${machine.loadavg[0].toFixed(2)} at the end; load generator on the same machine.`,
  ];
  process.stdout.write(`\n${table}\n\n${notes.join('\n')}\n`);

  const generatedAt = new Date().toISOString();
  const command = smoke ? 'npm run bench:smoke' : 'npm run bench';
  const { only, outDir, ...shownOptions } = options;
  writeFileSync(
    resolve(outDir, 'latest.json'),
    `${JSON.stringify({ generatedAt, command, options: { ...shownOptions, only: [...only] }, machine, meta, summary, rows, runs: raw }, null, 2)}\n`,
  );
  writeFileSync(resolve(outDir, 'latest.md'), `# Benchmark, ${generatedAt}\n\n\`${command}\`\n\n${table}\n\n${notes.join('\n\n')}\n`);
  log(`wrote ${resolve(outDir, 'latest.json')} and latest.md`);
}

/** Whether /metrics exists: the bench must work with or without it, and the note says which. */
async function describeService(service) {
  const metrics = await httpCall(`${service.url}/metrics`).catch(() => ({ status: 0 }));
  return { metrics: metrics.status === 200 };
}

/** Both targets must give the same answer to the same input before their speed means anything. */
async function checkAnswers(target, control) {
  await control.reset();
  const input = `héllo wörld 👋 ${nonce()}`;
  for (const expectedCache of ['MISS', 'HIT']) {
    const res = await httpCall(`${target.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyOf(input) });
    const ok =
      res.status === 200 &&
      res.text === bodyOf(expectedFor(input)) &&
      res.headers['content-type'] === 'application/json' &&
      res.headers['x-cache'] === expectedCache;
    if (!ok) throw new Error(`${target.name} answered ${res.status} ${res.headers['content-type']} X-Cache=${res.headers['x-cache']} ${res.text.slice(0, 200)}`);
  }
}

/** JIT and socket pools warm before anything is recorded. */
async function warmUp(targets, control) {
  await control.reset();
  let servedByService = 0;
  for (const [kind, target] of Object.entries(targets)) {
    await post(target, HOT_INPUT);
    const hits = await cannon(target.url, { connections: options.connections, durationS: options.warmupS, requestSpec: bodies.fixed(HOT_INPUT) });
    const misses = await cannon(target.url, { connections: options.connections, durationS: options.warmupS, requestSpec: bodies.unique(`warm-${nonce()}`) });
    if (kind === 'service') servedByService = hits.completed + misses.completed;
  }
  return servedByService;
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

const post = (target, data) => httpCall(`${target.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyOf(data) });

const LOAD_SCENARIOS = {
  hit: { scenario: 'cache hit, one input', latencyMs: 0, hot: HOT_INPUT, spec: () => bodies.fixed(HOT_INPUT) },
  'miss-0': { scenario: 'cache miss, upstream 0 ms', latencyMs: 0, spec: () => bodies.unique(`m0-${nonce()}`) },
  'miss-50': { scenario: 'cache miss, upstream 50 ms', latencyMs: 50, spec: () => bodies.unique(`m50-${nonce()}`) },
  mix: { scenario: '90/10 hit/miss mix', latencyMs: 0, hot: HOT_INPUT, spec: () => bodies.mixed(HOT_INPUT, `mix-${nonce()}`) },
  'hit-10k': { scenario: 'cache hit, 10,000 chars ASCII', latencyMs: 0, hot: LONG_ASCII, spec: () => bodies.fixed(LONG_ASCII) },
  'hit-10k-unicode': { scenario: 'cache hit, 10,000 chars Unicode', latencyMs: 0, hot: LONG_UNICODE, spec: () => bodies.fixed(LONG_UNICODE) },
};

/** `runs` autocannon runs per target, interleaved service, reference, service, reference... */
async function loadScenario(id, targets, control) {
  const def = LOAD_SCENARIOS[id];
  log(`${id}: ${def.scenario}`);
  const runs = { service: [], reference: [] };
  for (let run = 0; run < options.runs; run++) {
    for (const [kind, target] of Object.entries(targets)) {
      await quiesce(targets.service, control);
      if (def.hot) await post(target, def.hot);
      await control.reset();
      await control.setLatency(def.latencyMs);
      const result = await cannon(target.url, { connections: options.connections, durationS: options.durationS, requestSpec: def.spec() });
      result.upstream = await control.requests();
      result.rssMiB = await rssMiB(target.pid);
      runs[kind].push(result);
      log(`  ${kind} run ${run + 1}: ${Math.round(result.reqPerSec)} req/s, p99 ${result.p99} ms, ${result.errors} errors, ${result.upstream} upstream`);
    }
  }
  await control.setLatency(0);
  const service = summarise(runs.service);
  const reference = summarise(runs.reference);
  const ratio = service.reqPerSec / reference.reqPerSec;
  const row = { id, scenario: def.scenario, service, reference, ratio, runs, servedByService: sum(runs.service.map((r) => r.completed)) };
  if (id === 'hit') {
    row.target = '≥ 0.6x, p99 < 5 ms';
    row.result = verdict(ratio >= 0.6 && service.p99 < 5 && service.errors === 0);
  } else if (id === 'miss-0') {
    row.target = '≥ 0.5x';
    row.result = verdict(ratio >= 0.5 && service.errors === 0);
  }
  return row;
}

const verdict = (met) => (met ? 'PASS' : 'MISS');

function summarise(runs) {
  return {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: sum(runs.map((r) => r.errors)),
    upstream: median(runs.map((r) => r.upstream)),
    rssMiB: runs.at(-1)?.rssMiB,
  };
}

/** 1,000 requests at once for one new input, Shoutcloud answering in 200 ms: one upstream call. */
async function herdScenario(targets, control) {
  log(`herd: ${options.herdSize} concurrent requests for one new input, upstream 200 ms`);
  const runs = { service: [], reference: [] };
  for (let run = 0; run < options.runs; run++) {
    for (const [kind, target] of Object.entries(targets)) {
      await quiesce(targets.service, control);
      await control.reset();
      await control.setLatency(200);
      const input = `herd ${nonce()} stampede`;
      const result = await herd(target.url, { count: options.herdSize, input, expected: expectedFor(input) });
      result.upstream = await control.requests();
      result.rssMiB = await rssMiB(target.pid);
      runs[kind].push(result);
      log(`  ${kind} run ${run + 1}: ${result.ok}/${options.herdSize} OK in ${Math.round(result.wallMs)} ms, ${result.upstream} upstream, ${JSON.stringify(result.statuses)}`);
    }
  }
  await control.setLatency(0);
  const service = summarise(runs.service);
  const reference = summarise(runs.reference);
  const met = runs.service.every((r) => r.upstream === 1 && r.ok === options.herdSize);
  return {
    id: 'herd',
    scenario: `herd: ${options.herdSize.toLocaleString('en-US')} x one new input, upstream 200 ms`,
    service,
    reference,
    ratio: service.reqPerSec / reference.reqPerSec,
    target: `1 upstream call, ${options.herdSize}x 200`,
    result: verdict(met),
    runs,
    servedByService: options.herdSize * options.runs,
  };
}

/** Fresh processes, default cache bounds: RSS after N distinct inputs, then after N more. */
async function memoryScenario(spawnTarget, control, raw) {
  const n = options.memoryInputs;
  log(`memory: ${n} distinct inputs of ${options.memoryChars} chars, twice`);
  await control.reset();
  await control.setLatency(0);
  const targets = { service: await spawnTarget('service'), reference: await spawnTarget('reference') };
  const phases = [];
  try {
    for (let phase = 1; phase <= 2; phase++) {
      const results = {};
      for (const [kind, target] of Object.entries(targets)) {
        await control.reset();
        const started = performance.now();
        const result = await cannon(target.url, {
          connections: options.connections,
          amount: n,
          requestSpec: bodies.unique(`mem${phase}-${nonce()}`, options.memoryChars),
        });
        result.upstream = await control.requests();
        await settle(smoke ? 200 : 1000);
        result.rssMiB = await rssMiB(target.pid);
        results[kind] = result;
        log(`  ${kind} phase ${phase}: ${n} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s, RSS ${result.rssMiB.toFixed(1)} MiB, ${result.errors} errors`);
      }
      phases.push(results);
    }
  } finally {
    await Promise.all(Object.values(targets).map((t) => t.stop()));
  }
  raw.memory = phases;
  const [first, second] = phases;
  const pick = (r) => ({ reqPerSec: r.reqPerSec, p50: r.p50, p99: r.p99, errors: r.errors, upstream: r.upstream, rssMiB: r.rssMiB });
  const growth = second.service.rssMiB / first.service.rssMiB - 1;
  const label = n.toLocaleString('en-US');
  return [
    {
      id: 'memory-1',
      scenario: `memory: after ${label} distinct inputs`,
      service: pick(first.service),
      reference: pick(first.reference),
      ratio: first.service.reqPerSec / first.reference.reqPerSec,
      target: 'RSS < 150 MiB',
      result: verdict(first.service.rssMiB < 150 && first.service.errors === 0),
    },
    {
      id: 'memory-2',
      scenario: `memory: after ${label} more`,
      service: pick(second.service),
      reference: pick(second.reference),
      ratio: second.service.reqPerSec / second.reference.reqPerSec,
      target: `< 150 MiB, flat ±10% (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%)`,
      result: verdict(second.service.rssMiB < 150 && Math.abs(growth) <= 0.1 && second.service.errors === 0),
    },
  ];
}

/** Spawn to first `/health` 200, several starts each, interleaved; RSS when it first answered. */
async function startupScenario(spawnTarget, raw) {
  log(`startup: ${options.starts} start(s) each`);
  const runs = { service: [], reference: [] };
  for (let i = 0; i < options.starts; i++) {
    for (const kind of ['service', 'reference']) {
      const target = await spawnTarget(kind);
      const rss = await rssMiB(target.pid);
      await target.stop();
      runs[kind].push({ startMs: target.startMs, rssMiB: rss });
      log(`  ${kind} start ${i + 1}: ${Math.round(target.startMs)} ms`);
    }
  }
  raw.startup = runs;
  const side = (list) => ({
    p50: median(list.map((r) => r.startMs)),
    p99: Math.max(...list.map((r) => r.startMs)),
    rssMiB: median(list.map((r) => r.rssMiB)),
  });
  const service = side(runs.service);
  const reference = side(runs.reference);
  return {
    id: 'startup',
    scenario: 'start-up to /health 200 (p50 = median, p99 = slowest)',
    service,
    reference,
    ratio: service.p50 / reference.p50,
    ratioOf: 'time',
    target: 'median < 1500 ms',
    result: verdict(service.p50 < 1500),
  };
}

/** How much the service logged, to show that logging was on (and what it cost in bytes). */
async function logVolume(file, requests) {
  let bytes = 0;
  let lines = 0;
  try {
    bytes = statSync(file).size;
    for await (const chunk of createReadStream(file)) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
  } catch {
    return undefined;
  }
  return { bytes, lines, requests, linesPerRequest: requests > 0 ? lines / requests : 0 };
}

main().catch((error) => {
  const died = unexpectedExits();
  process.stderr.write(`bench failed: ${error.message}\n${died.length ? `children that died during the run: ${died.join('; ')}\n` : ''}`);
  process.exitCode = 1;
});
