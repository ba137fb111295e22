// The one table: rendered as an aligned Markdown table (readable in a terminal, pasteable in a README).

const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n) => (Number.isFinite(n) ? (n >= 100 ? String(Math.round(n)) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) : '—');
const mib = (n) => (Number.isFinite(n) ? n.toFixed(0) : '—');
const times = (n, of) => (Number.isFinite(n) ? `${n.toFixed(2)}x${of ? ` (${of})` : ''}` : '—');

export const COLUMNS = ['Scenario', 'req/s svc / Nest / http', 'svc÷Nest', 'svc÷http', 'p50 ms', 'p99 ms', 'p99 ms measured', 'CPU µs/req', 'errors', 'upstream calls', 'RSS MiB', 'load', 'target', 'result'];

/** One row's cells, "service / bare Nest / node:http" where the three were measured. */
export function cells(row) {
  const sides = [row.service ?? {}, row.nest ?? {}, row.http ?? {}];
  const three = (format, key) => sides.map((side) => format(side[key])).join(' / ');
  return [
    row.scenario,
    three(int, 'reqPerSec'),
    times(row.ratioNest, row.ratioOf),
    times(row.ratioHttp, row.ratioOf),
    three(ms, 'p50'),
    three(ms, 'p99'),
    three(ms, 'p99Measured'),
    three(int, 'cpuUsPerReq'),
    three(int, 'errors'),
    three(int, 'upstream'),
    three(mib, 'rssMiB'),
    Number.isFinite(row.load) ? row.load.toFixed(1) : '—',
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
