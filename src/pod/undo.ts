// Every lifecycle step registers its undo; undo runs them last-first.
// An undo failure is a warning and never hides the first error.

import { crashPoint } from '../crash-point.js'

export type Warn = (message: string) => void

export class UndoStack {
  private steps: { what: string; fn: () => unknown }[] = []

  push(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn })
  }

  /** Run every registered undo, newest first; failures go to `warn`. */
  async run(warn: Warn): Promise<void> {
    while (this.steps.length > 0) {
      const { what, fn } = this.steps.pop()!
      try {
        await fn()
      } catch (e) {
        warn(`undo ${what}: ${e instanceof Error ? e.message : String(e)}`)
      }
      crashPoint('teardown-step')
    }
  }
}
