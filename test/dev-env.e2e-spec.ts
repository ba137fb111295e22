import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Environment, validateEnvironment } from '../src/config/environment.js';
import { startShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { freePort, freePortOutsideEphemeralRange, startApp } from './support/app-process.js';

// What a developer or operator meets before the first request: `.env.example`, `compose.yaml`
// and `npm run start:dev`. The variables are derived from the configuration class itself, so a
// variable added there without its line in `.env.example` or a wrong one in compose fails here.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULTS = new Environment() as unknown as Record<string, unknown>;
const VARIABLES = Object.keys(DEFAULTS).sort();
/** The environment of a child process with none of the service's variables from ours. */
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in DEFAULTS)));

interface EnvLine {
  key: string;
  value: string;
  comment: string | undefined;
}

function readEnvExample(): EnvLine[] {
  const lines = readFileSync(join(ROOT, '.env.example'), 'utf8').split('\n');
  return lines.flatMap((line, index) => {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) return [];
    const above = lines[index - 1];
    return [{ key: match[1], value: match[2], comment: above?.startsWith('# ') ? above.slice(2).trim() : undefined }];
  });
}

describe('.env.example', () => {
  const entries = readEnvExample();

  it('lists every variable of the configuration class, and nothing else', () => {
    const listed = entries.map((entry) => entry.key);
    expect({ missing: VARIABLES.filter((key) => !listed.includes(key)), unknown: listed.filter((key) => !VARIABLES.includes(key)) }).toEqual({
      missing: [],
      unknown: [],
    });
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('gives each its default (blank where the default is unset) and one line of meaning above it', () => {
    for (const { key, value, comment } of entries) {
      expect({ key, value }).toEqual({ key, value: DEFAULTS[key] === undefined ? '' : String(DEFAULTS[key]) });
      expect({ key, comment: (comment?.length ?? 0) > 10 }).toEqual({ key, comment: true });
    }
  });

  it('is a valid configuration that equals the defaults', () => {
    const raw = Object.fromEntries(entries.map(({ key, value }) => [key, value]));
    expect({ ...validateEnvironment(raw) }).toEqual({ ...new Environment() });
  });
});

interface ComposeService {
  build?: { context: string; target: string };
  image?: string;
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number };
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  restart?: string;
  stop_grace_period?: string;
  profiles?: string[];
  command?: string[];
}

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
  const { api, shoutcloud, redis } = compose.services;
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((match) => match[1]);
  /** The EXPOSE line of one Dockerfile stage. */
  const exposed = (stage: string) => {
    const body = dockerfile.split(/^FROM /m).find((block) => block.split('\n')[0].endsWith(` AS ${stage}`)) ?? '';
    return /^EXPOSE (\d+)$/m.exec(body)?.[1];
  };
  /** The shell command of a CMD-SHELL health check. */
  const healthCommand = (service: ComposeService) => {
    const [kind, command, ...rest] = service.healthcheck!.test;
    expect({ kind, rest }).toEqual({ kind: 'CMD-SHELL', rest: [] });
    return command;
  };
  /** Runs a health check command as the container would, with `node` being this Node. */
  const runHealthCheck = async (command: string, port: number) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}`, PORT: String(port) },
      stdio: 'ignore',
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  };

  /** The services `up` starts without `--profile`. */
  const defaults = Object.keys(compose.services).filter((name) => !compose.services[name].profiles).sort();

  it('runs the API, Redis and the self-hosted Shoutcloud, the two images from the Dockerfile stages', () => {
    expect(defaults).toEqual(['api', 'redis', 'shoutcloud']);
    expect(api.build).toEqual({ context: '.', target: stages.at(-1) });
    expect(shoutcloud.build).toEqual({ context: '.', target: 'shoutcloud-server' });
    expect(stages).toContain('shoutcloud-server');
    expect(redis.image).toMatch(/^docker\.io\/library\/redis:7\.\d+-alpine$/);
  });

  it('gives the API only variables of the configuration class, valid, pointed at the other two services', () => {
    const env = api.environment!;
    expect(Object.keys(env).filter((key) => !VARIABLES.includes(key))).toEqual([]);
    const config = validateEnvironment(env);
    expect(new URL(config.SHOUTCLOUD_URL)).toMatchObject({ hostname: 'shoutcloud', port: shoutcloud.environment!.PORT });
    expect(new URL(config.REDIS_URL!)).toMatchObject({ hostname: 'redis', port: redis.expose![0] });
    expect(config.LOG_FORMAT).toBe('json');
  });

  it('publishes the API port, exposes the others, and each port is the one its process listens on', () => {
    expect(api.ports).toEqual([`${api.environment!.PORT}:${api.environment!.PORT}`]);
    expect(api.environment!.PORT).toBe(exposed(api.build!.target));
    // /metrics and the detailed /health: on the compose network, never on the host.
    expect(api.expose).toEqual([api.environment!.METRICS_PORT]);
    expect(compose.services['api-sentinel'].expose).toEqual([compose.services['api-sentinel'].environment!.METRICS_PORT]);
    expect(shoutcloud.ports).toBeUndefined();
    expect(shoutcloud.expose).toEqual([shoutcloud.environment!.PORT]);
    expect(shoutcloud.environment!.PORT).toBe(exposed('shoutcloud-server'));
    expect(redis.ports).toBeUndefined();
    expect(redis.expose).toEqual(['6379']);
  });

  it('hardens every service as production does, and starts the API once the others are healthy', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, ...service, healthcheck: undefined }).toMatchObject({
        name,
        read_only: true,
        cap_drop: ['ALL'],
        security_opt: ['no-new-privileges:true'],
        restart: 'unless-stopped',
      });
      expect(service.healthcheck).toMatchObject({ interval: expect.stringMatching(/^\d+s$/), timeout: expect.stringMatching(/^\d+s$/) });
      // Compose would interpolate a `$` in the command.
      expect(healthCommand(service)).not.toContain('$');
    }
    expect(api.depends_on).toEqual({ shoutcloud: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    const config = validateEnvironment(api.environment!);
    expect(Number.parseInt(api.stop_grace_period!, 10) * 1000).toBeGreaterThan(config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_GRACE_MS);
  });

  it('has a `sentinel` profile: a primary, a replica and three Sentinels, and an API that reaches Redis through them', () => {
    const profiled = Object.keys(compose.services).filter((name) => compose.services[name].profiles?.includes('sentinel'));
    expect(profiled.sort()).toEqual(['api-sentinel', 'redis-primary', 'redis-replica', 'sentinel-1', 'sentinel-2', 'sentinel-3']);
    for (const name of profiled) expect({ name, profiles: compose.services[name].profiles }).toEqual({ name, profiles: ['sentinel'] });

    const apiSentinel = compose.services['api-sentinel'];
    expect(Object.keys(apiSentinel.environment!).filter((key) => !VARIABLES.includes(key))).toEqual([]);
    const config = validateEnvironment(apiSentinel.environment!);
    expect(config.REDIS_URL).toBeUndefined();
    expect({ build: apiSentinel.build, image: apiSentinel.image }).toEqual({ build: api.build, image: api.image });
    expect(apiSentinel.ports).toEqual([`3001:${apiSentinel.environment!.PORT}`]);
    // Each Sentinel it names is a service listening there, monitoring the primary under the name the API asks for.
    const named = config.REDIS_SENTINELS!.split(',').map((entry) => entry.split(':'));
    expect(named.map(([host]) => host)).toEqual(['sentinel-1', 'sentinel-2', 'sentinel-3']);
    for (const [host, port] of named) {
      const sentinel = compose.services[host];
      expect(sentinel.expose).toEqual([port]);
      const script = sentinel.command!.join(' ');
      expect(script).toContain(`port ${port}\\n`);
      expect(script).toContain(`sentinel monitor ${config.REDIS_SENTINEL_MASTER} redis-primary ${compose.services['redis-primary'].expose![0]} 2\\n`);
      expect(script).toContain(`sentinel announce-ip ${host}\\n`);
      expect(script).toMatch(/redis-server \/tmp\/sentinel\.conf --sentinel$/);
    }
    expect(compose.services['redis-replica'].command!.join(' ')).toContain('--replicaof redis-primary 6379');
  });

  it('has a `cluster` profile: six cluster nodes, a service that makes them one cluster, and an API that reaches it', () => {
    const profiled = Object.keys(compose.services).filter((name) => compose.services[name].profiles?.includes('cluster'));
    const nodes = ['1', '2', '3', '4', '5', '6'].map((n) => `redis-cluster-${n}`);
    expect(profiled.sort()).toEqual(['api-cluster', ...nodes, 'redis-cluster-create'].sort());
    for (const name of profiled) expect({ name, profiles: compose.services[name].profiles }).toEqual({ name, profiles: ['cluster'] });
    for (const name of nodes) {
      expect(compose.services[name].command!.join(' ')).toMatch(/--cluster-enabled yes .*--cluster-require-full-coverage no/);
      expect(compose.services[name].expose).toEqual(['6379']);
    }
    const create = compose.services['redis-cluster-create'].command!.join(' ');
    expect(create).toContain(`redis-cli --cluster create ${nodes.map((node) => `${node}:6379`).join(' ')} --cluster-replicas 1 --cluster-yes`);
    const apiCluster = compose.services['api-cluster'];
    expect(Object.keys(apiCluster.environment!).filter((key) => !VARIABLES.includes(key))).toEqual([]);
    const config = validateEnvironment(apiCluster.environment!);
    expect({ url: config.REDIS_URL, sentinels: config.REDIS_SENTINELS }).toEqual({ url: undefined, sentinels: undefined });
    expect(config.REDIS_CLUSTER_NODES!.split(',').every((seed) => nodes.includes(seed.split(':')[0]))).toBe(true);
    expect({ build: apiCluster.build, image: apiCluster.image }).toEqual({ build: api.build, image: api.image });
    expect(apiCluster.ports).toEqual([`3002:${apiCluster.environment!.PORT}`]);
  });

  it("runs the API's health check: healthy against the service, unhealthy when nothing listens", async () => {
    const upstream = await startShoutcloudServer();
    try {
      const app = await startApp({ SHOUTCLOUD_URL: upstream.url });
      try {
        expect(await runHealthCheck(healthCommand(api), app.port)).toBe(0);
        expect(await runHealthCheck(healthCommand(api), await freePort())).toBe(1);
      } finally {
        await app.stop();
      }
    } finally {
      await upstream.close();
    }
  });

  it("runs the Shoutcloud server's health check: healthy against it, unhealthy when nothing listens", async () => {
    const upstream = await startShoutcloudServer();
    try {
      expect(await runHealthCheck(healthCommand(shoutcloud), Number(new URL(upstream.url).port))).toBe(0);
      expect(upstream.requests).toBe(1);
      expect(await runHealthCheck(healthCommand(shoutcloud), await freePort())).toBe(1);
    } finally {
      await upstream.close();
    }
  });

  const podmanCompose = spawnSync('podman-compose', ['version'], { stdio: 'ignore' }).status === 0;
  if (!podmanCompose) process.stdout.write('SKIPPED compose.yaml through podman-compose: not installed (apt-get install podman-compose)\n');
  (podmanCompose ? it : it.skip)('is understood by podman-compose (a dry run of `up`, nothing started)', () => {
    const run = spawnSync('podman-compose', ['-p', 'transform-api', '-f', 'compose.yaml', '--dry-run', 'up', '--no-build', '-d'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr.includes('Error') }).toEqual({ status: 0, stderr: false });
    for (const name of ['api', 'shoutcloud', 'redis']) expect(run.stdout).toContain(`--name=transform-api_${name}_1`);
    expect(run.stdout).toContain('-p 3000:3000');
    // podman-compose before 1.0.4 (Debian 12 ships 1.0.3) knows no profiles and starts every service.
    const started = Object.keys(compose.services).filter((name) => run.stdout.includes(`--name=transform-api_${name}_1`));
    if (started.length > defaults.length) {
      process.stdout.write('compose.yaml through podman-compose: this podman-compose ignores profiles, so its `up` starts the sentinel and cluster profiles too\n');
    }
    expect(run.stdout.match(/--healthcheck-command \/bin\/sh -c '/g)).toHaveLength(started.length);
  });
});

describe('npm run start:dev', () => {
  let workdir: string;
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  async function waitFor(what: string, check: () => Promise<boolean>, output: () => string) {
    const deadline = Date.now() + 180_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen in 180 s:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('serves with the bundled Shoutcloud server, restarts on a change reusing its ports, and leaves nothing behind', async () => {
    // A copy of the project, so the watcher's rebuilds never touch the dist/ other tests run.
    workdir = mkdtempSync(join(tmpdir(), 'transform-api-dev-'));
    for (const entry of ['src', 'package.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(join(ROOT, entry), join(workdir, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(workdir, 'node_modules'));
    const [port, upstreamPort, metricsPort] = [await freePortOutsideEphemeralRange(), await freePortOutsideEphemeralRange(), await freePortOutsideEphemeralRange()];
    const url = `http://127.0.0.1:${port}`;
    // Its own process group, so that the Ctrl+C of a terminal can be sent to all of it at once.
    const child = spawn('npm', ['run', 'start:dev'], {
      cwd: workdir,
      env: { ...CLEAN_ENV, PORT: String(port), METRICS_PORT: String(metricsPort), HOST: '127.0.0.1', SHOUTCLOUD_SERVER_PORT: String(upstreamPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    const read = () => output;
    const title = async () => ((await (await fetch(`${url}/docs-json`)).json()) as { info: { title: string } }).info.title;
    const shout = async (data: string) => {
      const response = await fetch(`${url}/transform`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) });
      return (await response.json()) as { data: string };
    };

    try {
      await waitFor('first start', async () => (await fetch(`${url}/health/live`)).ok, read);
      expect(await shout('abc')).toEqual({ data: 'CBA' });
      expect(await title()).toBe('transform-api');

      const file = join(workdir, 'src/docs/openapi.document.ts');
      writeFileSync(file, readFileSync(file, 'utf8').replace(".setTitle('transform-api')", ".setTitle('transform-api, changed')"));
      await waitFor('restart after the change', async () => (await title()) === 'transform-api, changed', read);
      // The new process has the bundled server on the same port: the old one let it go.
      expect(await shout('abcd')).toEqual({ data: 'DCBA' });
      expect(output).not.toMatch(/EADDRINUSE/);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
    // Every process of the group is gone, and its ports are free again. A child that has just
    // exited stays in the group (a zombie) until its parent reaps it: a moment, not a leak.
    await waitFor('the process group to be gone', async () => {
      try {
        process.kill(-child.pid!, 0);
        return false;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }, read);
    for (const freed of [port, upstreamPort, metricsPort]) {
      const server = createServer().listen(freed, '127.0.0.1');
      await once(server, 'listening');
      server.close();
      await once(server, 'close');
    }
  }, 400_000);
});
