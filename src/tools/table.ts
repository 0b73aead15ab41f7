/** Rows as aligned columns, two spaces apart, for a terminal: the first row is the header. */
export function formatTable(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)));
  return rows.map(row => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}
