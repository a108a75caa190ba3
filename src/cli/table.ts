// Plain aligned tables for people (scripts use --json).

export function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows]
  const keep = head.map((_, i) => rows.length === 0 || i < 2 || rows.some(r => r[i] !== ''))
  const cols = head.map((_, i) => i).filter(i => keep[i])
  const widths = cols.map(i => Math.max(...all.map(r => r[i].length)))
  return (
    all
      .map(r =>
        cols
          .map((i, k) => (k === cols.length - 1 ? r[i] : r[i].padEnd(widths[k])))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  )
}
