// A command run in a real pseudo-terminal (util-linux `script`), for tests of
// what pod-launch does on a terminal: raw mode, window sizes, detach keys.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'

interface T {
  teardown(fn: () => unknown): void
}

/**
 * A command run in a real pseudo-terminal by util-linux `script`: our pipe
 * is the terminal's keyboard, its screen comes back on stdout. The shell
 * first prints the terminal's path (to resize it with stty -F).
 */
export class Terminal {
  readonly proc: ChildProcess
  text = ''
  readonly exited: Promise<number>
  private waiters: (() => void)[] = []

  constructor(t: T, cmd: string) {
    this.proc = spawn('script', ['-qfc', `tty; ${cmd}; echo "script-rc=$?"; stty -a`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.text += d
      this.waiters.forEach(w => w())
    })
    this.exited = new Promise(resolve => this.proc.on('exit', code => resolve(code ?? -1)))
    t.teardown(() => {
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL')
    })
  }

  /** Resolves with the first match of `re` in the screen text after `from`. */
  async waitFor(re: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = this.text.slice(from).match(re)
      if (m) return m
      if (Date.now() > deadline || this.proc.exitCode !== null) throw new Error(`no ${re} on the terminal; it shows:\n${this.text}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, 200)
        this.waiters.push(() => (clearTimeout(timer), resolve()))
      })
      this.waiters = []
    }
  }

  type(s: string): void {
    this.proc.stdin!.write(s)
  }

  /** The path of the terminal `script` made (its first line). */
  async path(): Promise<string> {
    return (await this.waitFor(/^(\/dev\/pts\/\d+)\r?\n/))[1]
  }

  /** TIOCSWINSZ on our side of the terminal, as a window manager does: SIGWINCH to its foreground group. */
  resize(path: string, rows: number, cols: number): void {
    execFileSync('stty', ['-F', path, 'rows', String(rows), 'cols', String(cols)])
  }
}

/** Type a line until `re` shows after it (the resize is forwarded asynchronously). */
export async function typeUntil(term: Terminal, line: string, re: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; ; i++) {
    const from = term.text.length
    term.type(line)
    try {
      return await term.waitFor(re, from, i < 20 ? 500 : 10_000)
    } catch (e) {
      if (i >= 20) throw e
    }
  }
}
