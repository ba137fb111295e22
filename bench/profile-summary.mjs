// Where the time goes in a V8 CPU profile (`node --cpu-prof`), grouped by package.
//
//   node bench/profile-summary.mjs artifacts/profiles/hit/service.cpuprofile [--top=25] [--skip-ms=auto|N] [--startup]
//
// Start-up (module loading, Nest's bootstrap) is left out: by default up to the last module load
// in the first half of the profile, plus 0.5 s of JIT warm-up; --skip-ms=N leaves out N ms instead.
// --startup summarises only that left-out part: where start-up time goes.
//
// Two views of self time (time spent in a function's own code, not its callees):
// - "own": charged to the package the function belongs to (Node's internals and V8 builtins
//   such as JSON.parse count as `node (internals)`);
// - "charged": Node's internals and anonymous native frames charged to the nearest caller that
//   belongs to a package or to our code, so a `fs.writeSync` under pino counts as pino's.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { startup: { type: 'boolean', default: false }, top: { type: 'string', default: '25' }, 'skip-ms': { type: 'string', default: 'auto' } } });
if (positionals.length === 0) {
  process.stderr.write('usage: node bench/profile-summary.mjs <file.cpuprofile> [--top=N]\n');
  process.exit(2);
}

const ROOT = new URL('../', import.meta.url).href.replace(/^file:\/\//, '');
const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** The package a script URL belongs to: the last `node_modules/<name>` in it, our build, or Node. */
export function packageOf(url, functionName) {
  if (!url) return META.has(functionName) ? functionName : 'node (internals)';
  if (url.startsWith('node:')) return 'node (internals)';
  const path = url.replace(/^file:\/\//, '');
  const at = path.lastIndexOf('/node_modules/');
  if (at !== -1) {
    const [first, second] = path.slice(at + '/node_modules/'.length).split('/');
    return first.startsWith('@') ? `${first}/${second}` : first;
  }
  if (path.includes('/dist/')) return 'our src';
  if (path.includes('/bench/')) return 'bench';
  return path.startsWith(ROOT) ? 'our src' : 'other';
}

/** `dist/transform/x.js` reads as the source file it came from. */
const where = (url, line) => {
  const path = url.replace(/^file:\/\//, '');
  const dist = path.indexOf('/dist/');
  if (dist !== -1 && !path.includes('/node_modules/')) return `src/${path.slice(dist + 6).replace(/\.js$/, '.ts')} (dist:${line + 1})`;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules !== -1) return `${path.slice(modules + 14)}:${line + 1}`;
  return url ? `${url}:${line + 1}` : '(native)';
};

/**
 * Microseconds from the profile's start to the end of start-up, plus 0.5 s of JIT warm-up: the
 * last sample, in the first half of the profile, that is loading a module.
 */
function startupEndUs(profile, nodes, parent) {
  const loading = new Map();
  const isLoading = (id) => {
    if (loading.has(id)) return loading.get(id);
    const url = nodes.get(id).callFrame.url;
    const result = url.startsWith('node:internal/modules/') || (parent.has(id) && isLoading(parent.get(id)));
    loading.set(id, result);
    return result;
  };
  const half = (profile.endTime - profile.startTime) / 2;
  let at = 0;
  let end = 0;
  for (let i = 0; i < profile.samples.length && at < half; i++) {
    at += profile.timeDeltas[i];
    if (isLoading(profile.samples[i])) end = at;
  }
  return end + 500_000;
}

export function summarise(profile, skipMs = 'auto', startupOnly = false) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfUs = new Map();
  const { samples, timeDeltas } = profile;
  // timeDeltas[i] is the time before sample i; the gap after it is what that sample stands for.
  const boundary = profile.startTime + (skipMs === 'auto' ? startupEndUs(profile, nodes, parent) : Number(skipMs) * 1000);
  let at = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i];
    if (startupOnly ? at >= boundary : at < boundary) continue;
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }

  const chargedPackage = (id) => {
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = nodes.get(at).callFrame;
      const pkg = packageOf(url, functionName);
      if (pkg !== 'node (internals)') return pkg;
    }
    return 'node (internals, no package caller)';
  };

  const own = new Map();
  const charged = new Map();
  const functions = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const pkg = packageOf(callFrame.url, callFrame.functionName);
    total += us;
    if (pkg === '(idle)' || pkg === '(root)') {
      idle += us;
      continue;
    }
    own.set(pkg, (own.get(pkg) ?? 0) + us);
    const to = pkg === 'node (internals)' ? chargedPackage(id) : pkg;
    charged.set(to, (charged.get(to) ?? 0) + us);
    const key = `${callFrame.functionName || '(anonymous)'}\t${pkg}\t${where(callFrame.url, callFrame.lineNumber)}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  return { total, idle, busy: total - idle, own, charged, functions };
}

function print(file, top, skipMs, startupOnly) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const { total, idle, busy, own, charged, functions } = summarise(profile, skipMs, startupOnly);
  const ms = (us) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const lines = [];
  const window = skipMs === 'auto' ? 'start-up and the first 0.5 s of load' : `the first ${skipMs} ms`;
  lines.push(`${file} (${startupOnly ? `only ${window}` : `${window} left out`})`);
  lines.push(`sampled ${ms(total).trim()} ms: busy ${ms(busy).trim()} ms, idle ${ms(idle).trim()} ms (${((idle / total) * 100).toFixed(0)}%); percentages are of busy time`);
  lines.push('');
  lines.push(`${'package'.padEnd(28)} ${'own ms'.padStart(7)} ${'own'.padStart(6)}  ${'charged ms'.padStart(10)} ${'charged'.padStart(7)}`);
  const packages = [...new Set([...own.keys(), ...charged.keys()])].sort((a, b) => (charged.get(b) ?? 0) - (charged.get(a) ?? 0));
  for (const pkg of packages) {
    const o = own.get(pkg) ?? 0;
    const c = charged.get(pkg) ?? 0;
    lines.push(`${pkg.padEnd(28)} ${ms(o)} ${pct(o)}  ${ms(c).padStart(10)} ${pct(c).padStart(7)}`);
  }
  lines.push('');
  lines.push(`top ${top} functions by self time`);
  const sorted = [...functions].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of sorted) {
    const [name, pkg, loc] = key.split('\t');
    lines.push(`${ms(us)} ${pct(us)}  ${name.slice(0, 40).padEnd(40)} ${pkg.padEnd(22)} ${loc}`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

for (const file of positionals) print(file, Number(values.top), values['skip-ms'], values.startup);
