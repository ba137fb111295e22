import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startTestApp, type TestApp } from './support/app.js';
import { postJson, send } from './support/http.js';

const MONITORING = new URL('../deploy/monitoring/', import.meta.url);

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr?: string }>;
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ type: string; query?: string | { query: string } }> };
}
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const dashboard = JSON.parse(readFileSync(new URL('transform-api.dashboard.json', MONITORING), 'utf8')) as Dashboard;
// A PrometheusRule whose `spec` is the plain Prometheus rule file (deploy/monitoring/README.md).
const rules = (parseYaml(readFileSync(new URL('transform-api.rules.yaml', MONITORING), 'utf8')) as { spec: { groups: Array<{ rules: Rule[] }> } })
  .spec.groups.flatMap((group) => group.rules);

/** A series selector found in a PromQL expression: the metric name and the label names it matches on. */
interface Selector {
  name: string;
  labels: string[];
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const TOKEN =
  /\s+|(?<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|(?<variable>\$\{[^}]+\}|\$\w+)|(?<number>\d[\w.]*|\.\d[\w.]*)|(?<ident>[A-Za-z_:][\w:]*)|(?<op>=~|!~|!=|==|>=|<=|[(){}[\],=<>+\-*/%^@])/y;

/**
 * Every series selector in a PromQL expression (Grafana variables such as `$__rate_interval` and
 * `$job` allowed). A small tokenizer rather than a full parser: it knows where metric names can
 * stand (not before `(`, not in `by (…)` lists, not inside `[…]`) and reads label names off `{…}`.
 */
function selectorsOf(expr: string): Selector[] {
  const tokens: Array<{ kind: string; text: string }> = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expr);
    if (!match) throw new Error(`cannot read PromQL at ${at}: ${expr.slice(at, at + 20)} in ${expr}`);
    const kind = Object.entries(match.groups!).find(([, text]) => text !== undefined)?.[0];
    if (kind) tokens.push({ kind, text: match[0] });
  }

  const found: Selector[] = [];
  const depth = { '(': 0, '[': 0 };
  for (let i = 0; i < tokens.length; i++) {
    const { kind, text } = tokens[i];
    const next = tokens[i + 1];
    if (text === '(' || text === '[') depth[text]++;
    if (text === ')') depth['(']--;
    if (text === ']') depth['[']--;
    if (depth['('] < 0 || depth['['] < 0) throw new Error(`unbalanced brackets in ${expr}`);
    if (text === '{') throw new Error(`selector without a metric name in ${expr}`);
    if (kind !== 'ident' || depth['['] > 0) continue;
    if (LABEL_LIST_KEYWORDS.has(text) && next?.text === '(') {
      while (tokens[i].text !== ')') i++;
      continue;
    }
    if (KEYWORDS.has(text) || next?.text === '(' || next?.text === 'by' || next?.text === 'without') continue;

    const selector: Selector = { name: text, labels: [] };
    if (next?.text === '{') {
      for (i += 2; tokens[i]?.text !== '}'; i++) {
        if (i >= tokens.length) throw new Error(`unclosed {…} in ${expr}`);
        if (tokens[i].kind === 'ident' && ['=', '!=', '=~', '!~'].includes(tokens[i + 1]?.text)) selector.labels.push(tokens[i].text);
      }
    }
    found.push(selector);
  }
  if (depth['('] !== 0 || depth['['] !== 0) throw new Error(`unbalanced brackets in ${expr}`);
  return found;
}

/** Every PromQL expression in the dashboard (panel targets, and the query of `label_values(…)` variables) and the rules. */
function expressions(): Array<{ where: string; expr: string; extraLabels: string[] }> {
  const all: Array<{ where: string; expr: string; extraLabels: string[] }> = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) all.push({ where: `dashboard panel "${panel.title}"`, expr: target.expr ?? '', extraLabels: [] });
  }
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    const labelValues = /^label_values\((.+),\s*(\w+)\s*\)$/.exec(query.trim());
    if (!labelValues) throw new Error(`unsupported dashboard variable query: ${query}`);
    all.push({ where: `dashboard variable ${query}`, expr: labelValues[1], extraLabels: [labelValues[2]] });
  }
  for (const rule of rules) all.push({ where: `rule ${rule.alert ?? rule.record}`, expr: rule.expr, extraLabels: [] });
  return all;
}

/** What a scrape of /metrics offers: the series names each family yields, and label names seen on them. */
interface Exposition {
  /** Series name → family name (`x_bucket` → `x` for a histogram `x`). */
  series: Map<string, string>;
  /** Family name → label names seen on its samples (`le`, `quantile` included). */
  labels: Map<string, Set<string>>;
}

function readExposition(text: string): Exposition {
  const series = new Map<string, string>();
  const labels = new Map<string, Set<string>>();
  for (const [, family, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['', '_sum', '_count'] : [''];
    for (const suffix of suffixes) series.set(family + suffix, family);
    labels.set(family, new Set());
  }
  for (const [, name, labelText = ''] of text.matchAll(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})? \S+$/gm)) {
    const family = series.get(name);
    if (!family) continue;
    for (const [, label] of labelText.matchAll(/([A-Za-z_]\w*)="(?:[^"\\]|\\.)*"/g)) labels.get(family)!.add(label);
  }
  return { series, labels };
}

// Added by Prometheus (and the Prometheus Operator) from the scrape target, not by the service.
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);

/** One line per metric or label the dashboard and rules use but the exposition does not have. */
function problemsWith(exposition: Exposition): string[] {
  const problems: string[] = [];
  for (const { where, expr, extraLabels } of expressions()) {
    for (const { name, labels } of selectorsOf(expr)) {
      const family = exposition.series.get(name);
      if (!family) {
        problems.push(`${where}: ${name} is not exported`);
        continue;
      }
      const seen = exposition.labels.get(family)!;
      // A family with no samples yet shows no labels; its name is still checked above.
      if (seen.size === 0) continue;
      for (const label of [...labels, ...extraLabels]) {
        if (!TARGET_LABELS.has(label) && !seen.has(label)) problems.push(`${where}: ${name} has no label ${label}`);
      }
    }
  }
  return problems;
}

describe('PromQL selector extraction (the checker itself)', () => {
  it('finds metric names and their matched labels, and skips functions, label lists, durations and variables', () => {
    expect(
      selectorsOf(
        'histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"$job", status!~"5.."}[$__rate_interval])))' +
          ' / on (route) group_left sum without (instance) (up{job="x"} offset 5m) > bool 0.5 and vector(1)',
      ),
    ).toEqual([
      { name: 'http_request_duration_seconds_bucket', labels: ['job', 'status'] },
      { name: 'up', labels: ['job'] },
    ]);
  });

  it('rejects what it cannot read rather than passing it', () => {
    expect(() => selectorsOf('{__name__="http_requests_total"}')).toThrow(/without a metric name/);
    expect(() => selectorsOf('sum(rate(x[5m])')).toThrow(/unbalanced/);
  });
});

describe('deploy/monitoring: dashboard and alert rules', () => {
  it('the dashboard is well formed and covers requests, cache, upstream, breaker, Redis and the process', () => {
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length).toBeGreaterThan(0);
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
    const used = new Set(expressions().filter((e) => e.where.startsWith('dashboard')).flatMap((e) => selectorsOf(e.expr).map((s) => s.name)));
    expect([...used].sort()).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'http_request_duration_seconds_bucket',
        'http_requests_in_flight',
        'transform_cache_outcomes_total',
        'shoutcloud_tries_total',
        'shoutcloud_try_duration_seconds_bucket',
        'shoutcloud_retries_total',
        'shoutcloud_breaker_state',
        'redis_connected',
        'process_resident_memory_bytes',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_p99_seconds',
      ]),
    );
  });

  it('every alert has a severity, a for:, and summary / description / runbook text, and the four required alerts exist', () => {
    const alerts = rules.filter((rule) => rule.alert);
    for (const rule of alerts) {
      expect(['critical', 'warning']).toContain(rule.labels?.severity);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      for (const key of ['summary', 'description', 'runbook']) expect(rule.annotations?.[key]?.trim()).toBeTruthy();
    }
    const alertOn = (name: string) => alerts.filter((rule) => selectorsOf(rule.expr).some((s) => s.name === name)).map((r) => r.expr);
    expect(alertOn('http_requests_total').some((expr) => expr.includes('status=~"5.."'))).toBe(true);
    expect(alertOn('http_request_duration_seconds_bucket').some((expr) => expr.includes('histogram_quantile(0.99'))).toBe(true);
    expect(alertOn('shoutcloud_breaker_state').some((expr) => expr.includes('state="open"'))).toBe(true);
    expect(alertOn('redis_connected')).toHaveLength(1);
  });
});

describe('deploy/monitoring uses only metrics the service exports (GET /metrics on the metrics port after traffic)', () => {
  let upstream: ShoutcloudServer;
  let app: TestApp;
  let exposition: string;

  beforeAll(async () => {
    upstream = await startShoutcloudServer({ port: 0 });
    app = await startTestApp({ SHOUTCLOUD_URL: upstream.url });
    // A miss, a hit, a retried upstream failure, a 400 and a 404: enough for most families to have samples.
    for (const data of ['hello', 'hello', 'wörld']) await postJson(app.url, '/transform', { data });
    upstream.setFaults({ status: 500, times: 1 });
    expect((await postJson(app.url, '/transform', { data: 'retried' })).status).toBe(200);
    expect((await postJson(app.url, '/transform', { nope: 1 })).status).toBe(400);
    expect((await send(app.url, 'GET', '/no-such-route')).status).toBe(404);
    const scrape = await send(app.metricsUrl, 'GET', '/metrics');
    expect(scrape.status).toBe(200);
    exposition = scrape.text;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('every metric name and matched label in every dashboard and rule expression is exported', () => {
    expect(problemsWith(readExposition(exposition))).toEqual([]);
  });

  it('a renamed metric or a histogram used by its bare name is caught', () => {
    const renamed = exposition.replaceAll('shoutcloud_retries_total', 'shoutcloud_retry_count_total');
    expect(problemsWith(readExposition(renamed))).toEqual(
      expect.arrayContaining([expect.stringContaining('shoutcloud_retries_total is not exported')]),
    );
    const { series } = readExposition(exposition);
    expect(series.get('http_request_duration_seconds_bucket')).toBe('http_request_duration_seconds');
    expect(series.has('http_request_duration_seconds')).toBe(false);
  });

  it('a renamed label is caught', () => {
    const relabelled = exposition.replaceAll('status="', 'code="');
    expect(problemsWith(readExposition(relabelled))).toEqual(
      expect.arrayContaining([expect.stringContaining('http_requests_total has no label status')]),
    );
  });
});
