// The problem lines of a spec.invalid error (`  field: reason`), or [] when `make` does not throw.
export function problemsOf(make: () => unknown): string[] {
  try {
    make()
    return []
  } catch (e) {
    return (e as Error).message
      .split('\n')
      .slice(1)
      .map(l => l.trim())
  }
}
