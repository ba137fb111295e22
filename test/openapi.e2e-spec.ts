import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runExample } from '../client/example.js';
import { serializeOpenApiDocument } from '../src/docs/openapi.document.js';
import { testAppWithUpstream } from './support/app.js';

// The committed openapi.json and the generated client are what API consumers take; both must be
// what the service really serves. A route or DTO change makes these fail until it is regenerated.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGENERATE = 'run `npm run openapi` and commit openapi.json and client/schema.d.ts';

/** Fails with the first differing line and how to fix it, instead of a diff of a thousand lines. */
function expectUpToDate(file: string, committed: string, current: string) {
  if (committed === current) return;
  const [a, b] = [committed.split('\n'), current.split('\n')];
  const line = a.findIndex((text, index) => text !== b[index]);
  const at = line === -1 ? a.length : line;
  throw new Error(`${file} is stale: ${REGENERATE}.\nFirst difference, line ${at + 1}:\n  committed: ${a[at] ?? '(end)'}\n  current:   ${b[at] ?? '(end)'}`);
}

const running = testAppWithUpstream();

describe('openapi.json', () => {
  it('is what the running service serves at /docs-json', async () => {
    const response = await fetch(`${running.app.url}/docs-json`);
    expect(response.status).toBe(200);
    expectUpToDate('openapi.json', readFileSync(join(ROOT, 'openapi.json'), 'utf8'), serializeOpenApiDocument(await response.json()));
  });
});

describe('openapi.json under Redocly CLI, as `npm run lint` runs it', () => {
  it('has no error under the recommended rules, and only the warnings docs/architecture.md explains', () => {
    // `redocly lint` exits 1 on an error: its JSON report is read either way.
    const result = spawnSync(join(ROOT, 'node_modules/.bin/redocly'), ['lint', 'openapi.json', '--format=json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(result.stdout) as { totals: { errors: number }; problems: Array<{ ruleId: string; severity: string; location: Array<{ pointer: string }> }> };
    const problems = report.problems.map(({ ruleId, severity, location }) => `${severity} ${ruleId} ${location[0]?.pointer}`);
    expect(problems).toEqual([
      // The probes take no input, so no 4xx answer of their own; see docs/architecture.md.
      'warn operation-4xx-response #/paths/~1health/get/responses',
      'warn operation-4xx-response #/paths/~1health~1live/get/responses',
    ]);
    expect(report.totals.errors).toBe(0);
  });
});

describe('/docs', () => {
  it('shows every operation with a one-line summary and the rest as its description', async () => {
    const document = (await (await fetch(`${running.app.url}/docs-json`)).json()) as { paths: Record<string, Record<string, { summary?: string; description?: string }>> };
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ at: `${method} ${path}`, ...operation })));
    expect(operations.length).toBeGreaterThanOrEqual(6);
    for (const { at, summary, description } of operations) {
      expect({ at, summary }).toEqual({ at, summary: expect.stringMatching(/^[^\n`]{5,80}$/) });
      expect({ at, description }).toEqual({ at, description: expect.stringMatching(/\S.{20,}/s) });
    }
  });
});

describe('client/', () => {
  it('has schema.d.ts as openapi-typescript generates it from openapi.json now', () => {
    const dir = mkdtempSync(join(tmpdir(), 'transform-api-client-'));
    try {
      const output = join(dir, 'schema.d.ts');
      // The same command as `npm run client`, into a scratch file.
      execFileSync(process.execPath, [join(ROOT, 'node_modules/openapi-typescript/bin/cli.js'), 'openapi.json', '--output', output], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      expectUpToDate('client/schema.d.ts', readFileSync(join(ROOT, 'client/schema.d.ts'), 'utf8'), readFileSync(output, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs its example against the service: a text shouted, then a 400 read through the typed error', async () => {
    const before = running.upstream.requests;
    const result = await runExample(running.app.url);
    expect(result.shouted).toBe('👋 !DLRÖW ,OLLEH');
    expect(['MISS', 'HIT']).toContain(result.cache);
    expect(result.rejectedStatus).toBe(400);
    expect(result.rejected).toMatchObject({ statusCode: 400, error: expect.any(String) });
    expect(result.rejected.details).toEqual(expect.arrayContaining([expect.stringMatching(/data/)]));
    // The refused body never reached Shoutcloud; the first text did, at most once.
    expect(running.upstream.requests - before).toBeLessThanOrEqual(1);
  });
});
