// "Did you mean": the nearest known name to a misspelt one (commands, manifest fields).

/** Edit distance with adjacent transpositions counted once (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/** The closest of `names` to `word` (case-insensitive), when it is close enough to be a typo. */
export function closestName(word: string, names: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestD = Infinity
  for (const n of names) {
    const d = editDistance(w, n.toLowerCase())
    if (d < bestD) [best, bestD] = [n, d]
  }
  // At most two edits, and fewer than the word has letters ("ab" is not a typo of "ps").
  return bestD <= Math.min(2, Math.max(1, Math.floor(w.length / 2))) ? best : undefined
}
