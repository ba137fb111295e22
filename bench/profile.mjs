// Profiles the production build under load, one phase per process so each profile is clean:
// `hit` (one input, always cached) and `miss` (every input new, upstream 0 ms), and the same for
// 10,000 emoji-dense code points (`hit-10k-emoji`, `miss-10k-emoji`, as in bench.mjs). Writes
// artifacts/profiles/<phase>/service.cpuprofile and prints bench/profile-summary.mjs for each.
//
//   node bench/profile.mjs [--duration=10] [--phases=hit,miss,hit-10k-emoji,miss-10k-emoji]
// Open a .cpuprofile in Chrome DevTools (Performance tab) or speedscope for the flame graph.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bodies, bodyOf, load, nonce, requireWrk } from './lib/load.mjs';
import { EMOJI_FILLER, EMOJI_HEAD, HOT_INPUT, LONG_EMOJI } from './lib/texts.mjs';
import { ROOT, SERVICE_MAIN, SHOUTCLOUD_MAIN, httpCall, requireBuild, shoutcloudControl, startProcess } from './lib/processes.mjs';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, phases: { type: 'string', default: 'hit,miss' } } });
const durationS = Number(values.duration);
const PHASES = {
  hit: () => bodies.fixed(HOT_INPUT),
  miss: () => bodies.unique(`profile-${nonce()}`),
  'hit-10k-emoji': () => bodies.fixed(LONG_EMOJI),
  'miss-10k-emoji': () => bodies.uniqueWith(`profile-${nonce()}`, EMOJI_FILLER, EMOJI_HEAD),
};
const HOT = { 'hit-10k-emoji': LONG_EMOJI };

requireWrk();
requireBuild();
const shoutcloud = await startProcess({ name: 'Shoutcloud-compatible server', script: SHOUTCLOUD_MAIN, env: { SHOUTCLOUD_SERVER_CONTROL: 'on' }, readyPath: '/__control/stats' });
const control = shoutcloudControl(shoutcloud.url);
const files = [];
const skips = [];
try {
  for (const phase of values.phases.split(',')) {
    if (!(phase in PHASES)) throw new Error(`unknown phase ${phase}; known: ${Object.keys(PHASES).join(', ')}`);
    const dir = resolve(ROOT, 'artifacts/profiles', phase);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await control.reset();
    const service = await startProcess({
      name: 'service',
      script: SERVICE_MAIN,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-name=service.cpuprofile'],
      env: { SHOUTCLOUD_URL: shoutcloud.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
      logFile: resolve(dir, 'service.log'),
    });
    const readyAt = performance.now();
    try {
      await httpCall(`${service.url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodyOf(HOT[phase] ?? HOT_INPUT) });
      // Start-up on a loaded machine can take seconds: leave out exactly what came before the load.
      skips.push(Math.round(service.startMs + performance.now() - readyAt));
      const result = await load(service.url, { connections: 50, durationS, requestSpec: PHASES[phase]() });
      process.stderr.write(`[profile] ${phase}: ${Math.round(result.reqPerSec)} req/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors\n`);
    } finally {
      // The profile is written when the process exits; the service exits 0 on SIGTERM.
      const exit = await service.stop(30_000);
      if (exit.code !== 0) process.stderr.write(`[profile] service exited ${JSON.stringify(exit)}: the profile may be missing\n`);
    }
    files.push(resolve(dir, 'service.cpuprofile'));
  }
} finally {
  await shoutcloud.stop();
}
files.forEach((file, i) => spawnSync(process.execPath, [resolve(ROOT, 'bench/profile-summary.mjs'), file, `--skip-ms=${skips[i]}`], { stdio: 'inherit' }));
