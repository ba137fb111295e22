// The memory scenario (`--only=memory`, never run by default: about 5 minutes). The service runs
// inside a cgroup v1 memory controller limited to the Deployment's memory limit, as in its pod
// (Node sizes its heap from that limit too); 400,000 unique inputs fill its cache, then two
// minutes of the 90/10 mix. Passes when the kernel never OOM-killed it, its RSS over the last
// minute is flat (spread under 10% of the median) and its peak stays under 80% of the limit.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { bodies, load, nonce } from './load.mjs';
import { ROOT, rssMiB } from './processes.mjs';

const CGROUP_ROOT = '/sys/fs/cgroup/memory';
const SAMPLE_MS = 5000;

/** The service container's `resources.limits.memory` in deploy/base/deployment.yaml, in bytes. */
export function deploymentMemoryLimit() {
  const docs = parseAllDocuments(readFileSync(`${ROOT}deploy/base/deployment.yaml`, 'utf8')).map((doc) => doc.toJS());
  const deployment = docs.find((doc) => doc?.kind === 'Deployment');
  const limit = deployment?.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
  const match = /^(\d+)(Mi|Gi|M|G)?$/.exec(String(limit ?? ''));
  if (!match) throw new Error(`no memory limit found in deploy/base/deployment.yaml (found ${limit})`);
  const unit = { Mi: 2 ** 20, Gi: 2 ** 30, M: 1e6, G: 1e9 }[match[2]] ?? 1;
  return { text: String(limit), bytes: Number(match[1]) * unit };
}

/** A fresh cgroup v1 memory group with `bytes` as its hard limit and no swap; needs root. */
function createCgroup(bytes) {
  const dir = `${CGROUP_ROOT}/transform-bench-${process.pid}`;
  try {
    mkdirSync(dir);
    writeFileSync(`${dir}/memory.limit_in_bytes`, String(bytes));
  } catch (error) {
    throw new Error(
      `the memory scenario needs a writable cgroup v1 memory controller at ${CGROUP_ROOT} (run as root; ${error.code ?? error.message}); ` +
        'without it, use `podman run --memory=<limit>` on the image and watch its RSS',
    );
  }
  for (const [file, value] of [['memory.swappiness', '0'], ['memory.memsw.limit_in_bytes', String(bytes)]]) {
    try {
      writeFileSync(`${dir}/${file}`, value);
    } catch {
      // Swap accounting is often off; with swappiness 0 the limit still bites.
    }
  }
  const read = (file) => readFileSync(`${dir}/${file}`, 'utf8');
  return {
    dir,
    oomKills: () => Number(/^oom_kill (\d+)/m.exec(read('memory.oom_control'))?.[1] ?? 0),
    failcnt: () => Number(read('memory.failcnt')),
    usageMiB: () => Number(read('memory.usage_in_bytes')) / 2 ** 20,
    remove: () => rmdirSync(dir),
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Runs the scenario; returns the table's rows and every RSS sample. */
export async function memoryScenario({ spawnTarget, control, options, log }) {
  const limit = deploymentMemoryLimit();
  const limitMiB = limit.bytes / 2 ** 20;
  const cgroup = createCgroup(limit.bytes);
  log(`memory: service in cgroup ${cgroup.dir} limited to ${limit.text}; ${options.memoryInputs} unique inputs, then ${options.memoryMixedS} s of the 90/10 mix`);
  await control.reset();
  await control.setLatency(0);
  const samples = [];
  let service;
  try {
    service = await spawnTarget('service', { cgroup: cgroup.dir });
    const started = performance.now();
    let timer;
    const sample = async (phase) => {
      samples.push({ phase, atS: (performance.now() - started) / 1000, rssMiB: await rssMiB(service.pid), cgroupMiB: cgroup.usageMiB() });
    };
    const sampleEvery = (phase) => {
      clearInterval(timer);
      timer = setInterval(() => sample(phase).catch(() => undefined), SAMPLE_MS);
    };
    try {
      sampleEvery('fill');
      const fill = await load(service.url, {
        connections: options.connections,
        durationS: 3600,
        stopAfter: options.memoryInputs,
        requestSpec: bodies.unique(`mem-${nonce()}`, 100),
      });
      const upstream = await control.requests();
      log(`  fill: ${fill.completed} answers (${upstream} upstream calls) in ${fill.durationS.toFixed(0)} s, ${fill.errors} errors, RSS ${(await rssMiB(service.pid)).toFixed(0)} MiB`);
      sampleEvery('mixed');
      const mixed = await load(service.url, { connections: options.connections, durationS: options.memoryMixedS, requestSpec: bodies.mixed('memory hot input', `mem-mix-${nonce()}`) });
      await sample('mixed');
      log(`  mixed: ${Math.round(mixed.reqPerSec)} req/s for ${mixed.durationS.toFixed(0)} s, ${mixed.errors} errors`);
      const lastMinute = samples.filter((s) => s.phase === 'mixed' && s.atS >= samples.at(-1).atS - 60).map((s) => s.rssMiB);
      const peak = Math.max(...samples.map((s) => s.rssMiB));
      const spread = (Math.max(...lastMinute) - Math.min(...lastMinute)) / median(lastMinute);
      const oomKills = cgroup.oomKills();
      const alive = service.child.exitCode === null && service.child.signalCode === null;
      const row = (id, scenario, result, extra) => ({
        id,
        scenario,
        service: { reqPerSec: result.reqPerSec, p50: result.p50, p99: result.p99, errors: result.errors, rssMiB: extra.rssMiB, upstream: extra.upstream },
        ...extra.fields,
      });
      return {
        samples,
        rows: [
          row('memory-fill', `memory: ${options.memoryInputs.toLocaleString('en-US')} unique inputs, cgroup ${limit.text}`, fill, {
            rssMiB: samples.filter((s) => s.phase === 'fill').at(-1)?.rssMiB,
            upstream,
            fields: {},
          }),
          row('memory-mixed', `memory: then ${options.memoryMixedS} s of 90/10 mix (RSS last minute ${Math.min(...lastMinute).toFixed(0)}–${Math.max(...lastMinute).toFixed(0)} MiB, peak ${peak.toFixed(0)})`, mixed, {
            rssMiB: samples.at(-1).rssMiB,
            fields: {
              target: `no OOM kill (${oomKills}), flat ±10% (${(spread * 100).toFixed(1)}%), peak < ${Math.round(limitMiB * 0.8)} MiB`,
              result: oomKills === 0 && alive && spread < 0.1 && peak < limitMiB * 0.8 && mixed.socketErrors === 0 ? 'PASS' : 'MISS',
            },
          }),
        ],
      };
    } finally {
      clearInterval(timer);
    }
  } finally {
    await service?.stop();
    cgroup.remove();
  }
}
