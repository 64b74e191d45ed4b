/**
 * A plain aligned table: a header, a rule, then the rows, each column as wide
 * as its widest cell. Linear in its cells, where cli-table3's layout grows
 * with the square of the rows (upstream issue #68: 10,000 rows took 102 s);
 * used where a table can have one row per host.
 */
export function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h) => h.length);
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
