// The one table: rendered as an aligned Markdown table (readable in a terminal, pasteable in a README).

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n) => (Number.isFinite(n) ? (Number.isInteger(n) || n >= 100 ? String(Math.round(n)) : n.toFixed(1)) : '—');
const mib = (n) => (Number.isFinite(n) ? n.toFixed(0) : '—');
const pair = (format, a, b) => `${format(a)} / ${format(b)}`;

export const COLUMNS = ['Scenario', 'req/s svc / ref', 'ratio', 'p50 ms', 'p99 ms', 'errors', 'upstream calls', 'RSS MiB', 'target', 'result'];

/** One row's cells, "service / reference" where both were measured. */
export function cells(row) {
  const s = row.service ?? {};
  const r = row.reference ?? {};
  const ratio = Number.isFinite(row.ratio) ? `${row.ratio.toFixed(2)}x${row.ratioOf ? ` (${row.ratioOf})` : ''}` : '—';
  return [
    row.scenario,
    pair(int, s.reqPerSec, r.reqPerSec),
    ratio,
    pair(ms, s.p50, r.p50),
    pair(ms, s.p99, r.p99),
    pair(int, s.errors, r.errors),
    pair(int, s.upstream, r.upstream),
    pair(mib, s.rssMiB, r.rssMiB),
    row.target ?? '—',
    row.result ?? '—',
  ];
}

export function markdownTable(rows) {
  const table = [COLUMNS, ...rows.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((line) => line[i].length)));
  const line = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
  return [line(table[0]), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...table.slice(1).map(line)].join('\n');
}
