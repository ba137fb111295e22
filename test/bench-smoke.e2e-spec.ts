import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bench/bench.mjs', import.meta.url));

// Every row `npm run bench` prints by default; the memory scenario is long and only
// runs when asked. No timing is asserted here: the machine is shared, and only the full bench,
// comparing ratios within one run, says anything about speed.
const ROWS = ['hit', 'miss-0', 'miss-50', 'mix', 'herd', 'hit-10k', 'hit-10k-unicode', 'startup'];
const KINDS = ['service', 'nest', 'http'] as const;

interface Side {
  reqPerSec?: number;
  p50?: number;
  p99?: number;
  errors?: number;
}
interface BenchReport {
  meta: { wrk: string };
  rows: Array<{ id: string; scenario: string } & Record<(typeof KINDS)[number], Side>>;
}

async function runBench(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [BENCH, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [exitCode] = (await once(child, 'exit')) as [number | null];
  return { exitCode, stdout, stderr };
}

describe('npm run bench (smoke mode)', () => {
  let out: string;
  let run: Awaited<ReturnType<typeof runBench>>;
  let report: BenchReport;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    run = await runBench(['--smoke', `--out=${out}`]);
    if (run.exitCode === 0) report = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchReport;
    // A safety limit for a loaded CI machine; a quiet 2-core machine takes about 40 s.
  }, 240_000);

  afterAll(() => rm(out, { recursive: true, force: true }));

  it('exits 0, having checked that the service and both references give the same answers', () => {
    expect({ exitCode: run.exitCode, stderr: run.exitCode === 0 ? '' : run.stderr }).toEqual({ exitCode: 0, stderr: '' });
  });

  it('loads with wrk and writes every default scenario row', () => {
    expect(report.meta.wrk).toMatch(/\S/);
    expect(report.rows.map((row) => row.id)).toEqual(ROWS);
  });

  it("parses wrk's figures for the service, the bare Nest app and the node:http server in every load row", () => {
    for (const row of report.rows.filter((r) => r.id !== 'startup')) {
      for (const kind of KINDS) {
        const side = row[kind];
        expect({ row: row.id, kind, answered: (side.reqPerSec ?? 0) > 0 }).toEqual({ row: row.id, kind, answered: true });
        expect(Number.isFinite(side.p50) && Number.isFinite(side.p99) && Number.isInteger(side.errors)).toBe(true);
      }
    }
    const startup = report.rows.find((r) => r.id === 'startup')!;
    for (const kind of KINDS) expect(Number.isFinite(startup[kind].p50)).toBe(true);
  });

  it('prints one Markdown table with a line per scenario, and writes it to latest.md', async () => {
    const tableLines = run.stdout.split('\n').filter((line) => line.startsWith('|'));
    // Header, separator, one line per row.
    expect(tableLines).toHaveLength(ROWS.length + 2);
    for (const row of report.rows) expect(tableLines.some((line) => line.startsWith(`| ${row.scenario} `))).toBe(true);
    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    for (const line of tableLines) expect(markdown).toContain(line);
  });
});

describe('npm run bench without wrk', () => {
  it('says in one line how to install it and exits non-zero, with no fallback load generator', async () => {
    // Only node's own directory on PATH: no wrk.
    const { exitCode, stdout, stderr } = await runBench(['--smoke', '--only=hit'], { PATH: dirname(process.execPath) });
    expect(exitCode).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('apt-get install wrk')]);
  });
});
