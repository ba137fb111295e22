import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bench/bench.mjs', import.meta.url));

// Every row `npm run bench` must print (issue 6). No timing is asserted here: the machine is shared,
// and only the full bench, comparing ratios, says anything about speed.
const ROWS = ['hit', 'miss-0', 'miss-50', 'mix', 'herd', 'hit-10k', 'hit-10k-unicode', 'memory-1', 'memory-2', 'startup'];

interface BenchReport {
  rows: Array<{ id: string; scenario: string; service: { errors?: number }; result?: string }>;
}

describe('npm run bench (smoke mode)', () => {
  let out: string;
  let exitCode: number | null;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
    const child = spawn(process.execPath, [BENCH, '--smoke', `--out=${out}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    [exitCode] = (await once(child, 'exit')) as [number | null];
    // A safety limit for a loaded CI machine; a quiet 2-core machine takes about 40 s.
  }, 180_000);

  afterAll(() => rm(out, { recursive: true, force: true }));

  it('exits 0', () => {
    expect({ exitCode, stderr: exitCode === 0 ? '' : stderr }).toEqual({ exitCode: 0, stderr: '' });
  });

  it('writes every scenario row to latest.json', async () => {
    const report = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchReport;
    expect(report.rows.map((row) => row.id)).toEqual(ROWS);
  });

  it('prints one Markdown table with a line per scenario, and writes it to latest.md', async () => {
    const report = JSON.parse(await readFile(join(out, 'latest.json'), 'utf8')) as BenchReport;
    const tableLines = stdout.split('\n').filter((line) => line.startsWith('|'));
    // Header, separator, one line per row.
    expect(tableLines).toHaveLength(ROWS.length + 2);
    for (const row of report.rows) expect(tableLines.some((line) => line.startsWith(`| ${row.scenario} `))).toBe(true);
    const markdown = await readFile(join(out, 'latest.md'), 'utf8');
    for (const line of tableLines) expect(markdown).toContain(line);
  });
});
