// The memory scenario (`--only=memory`, never run by default: about 6 minutes). The service runs
// inside a cgroup v1 memory controller limited to the Deployment's memory limit, as in its pod
// (Node sizes its heap from that limit too); 400,000 unique inputs fill its cache, then a minute
// of batches of 100 new 1,000-character inputs on 100 connections (the largest bodies the
// defaults admit, every item a miss: what a request holds grows with the batch, and what the
// process holds with the batches in flight), then two minutes of the 90/10 mix. Passes when the
// kernel never OOM-killed it, it is still running, the mix lost no connection, its RSS over the
// last minute is flat (spread under 10% of the median) and its peak (the kernel's high-water
// mark, VmHWM) stays under 80% of the limit. The flood overloads the service on purpose: its error
// answers (503/504 once the upstream falls behind) and client timeouts are counted in its row,
// not failed.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { bodies, load, nonce } from './load.mjs';
import { ROOT, rssMiB } from './processes.mjs';

const CGROUP_ROOT = '/sys/fs/cgroup/memory';
const SAMPLE_MS = 5000;
/** Items per batch and characters per item: 100 x ~1,000 bytes stays under MAX_BODY_BYTES (131072). */
const BATCH_ITEMS = 100;
const BATCH_ITEM_CHARS = 1000;

/** The process's peak resident memory so far (VmHWM), in MiB: no spike between samples escapes it. */
function peakRssMiB(pid) {
  const kib = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kib / 1024;
}

/** The service container of deploy/base/deployment.yaml. */
function deploymentContainer() {
  const docs = parseAllDocuments(readFileSync(`${ROOT}deploy/base/deployment.yaml`, 'utf8')).map((doc) => doc.toJS());
  return docs.find((doc) => doc?.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0];
}

/** The container's NODE_OPTIONS (its heap sizing) as node arguments, as the pod runs it. */
export function deploymentNodeArgs() {
  const value = deploymentContainer()?.env?.find((variable) => variable.name === 'NODE_OPTIONS')?.value;
  return value ? String(value).split(/\s+/).filter(Boolean) : [];
}

/** The service container's `resources.limits.memory` in deploy/base/deployment.yaml, in bytes. */
export function deploymentMemoryLimit() {
  const limit = deploymentContainer()?.resources?.limits?.memory;
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
  log(
    `memory: service in cgroup ${cgroup.dir} limited to ${limit.text}, node ${deploymentNodeArgs().join(' ') || '(no flags)'}; ` +
      `${options.memoryInputs} unique inputs, then ${options.memoryBatchS} s of ${BATCH_ITEMS}-item batches on ${options.memoryBatchConnections} connections, ` +
      `then ${options.memoryMixedS} s of the 90/10 mix`,
  );
  await control.reset();
  await control.setLatency(0);
  const samples = [];
  let service;
  try {
    service = await spawnTarget('service', { cgroup: cgroup.dir, nodeArgs: deploymentNodeArgs() });
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
      const fillPeak = peakRssMiB(service.pid);
      log(`  fill: ${fill.completed} answers (${upstream} upstream calls) in ${fill.durationS.toFixed(0)} s, ${fill.errors} errors, RSS ${(await rssMiB(service.pid)).toFixed(0)} MiB, peak ${fillPeak.toFixed(0)} MiB`);
      sampleEvery('batch');
      const batch = await load(service.url, {
        connections: options.memoryBatchConnections,
        durationS: options.memoryBatchS,
        requestSpec: bodies.batch(`mem-batch-${nonce()}`, BATCH_ITEMS, BATCH_ITEM_CHARS),
      });
      await sample('batch');
      const batchUpstream = (await control.requests()) - upstream;
      const batchPeak = peakRssMiB(service.pid);
      log(`  batch: ${batch.completed} batches (${Math.round(batch.reqPerSec)}/s, ${batchUpstream} upstream calls) in ${batch.durationS.toFixed(0)} s, ${batch.non2xx} error answers, ${batch.socketErrors} socket errors, RSS ${samples.at(-1).rssMiB.toFixed(0)} MiB, peak ${batchPeak.toFixed(0)} MiB`);
      sampleEvery('mixed');
      const mixed = await load(service.url, { connections: options.connections, durationS: options.memoryMixedS, requestSpec: bodies.mixed('memory hot input', `mem-mix-${nonce()}`) });
      await sample('mixed');
      log(`  mixed: ${Math.round(mixed.reqPerSec)} req/s for ${mixed.durationS.toFixed(0)} s, ${mixed.errors} errors`);
      const lastMinute = samples.filter((s) => s.phase === 'mixed' && s.atS >= samples.at(-1).atS - 60).map((s) => s.rssMiB);
      const peak = Math.max(peakRssMiB(service.pid), ...samples.map((s) => s.rssMiB));
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
          row('memory-batch', `memory: then ${options.memoryBatchS} s of ${BATCH_ITEMS}-item batches of new ${BATCH_ITEM_CHARS}-character inputs, ${options.memoryBatchConnections} connections (peak ${batchPeak.toFixed(0)} MiB)`, batch, {
            rssMiB: samples.filter((s) => s.phase === 'batch').at(-1)?.rssMiB,
            upstream: batchUpstream,
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
