// The lab runner: each lab runs real pods, says in plain words what it shows,
// prints the kernel's evidence next to it, checks the expected outcome, and
// ends with PASS or FAIL. Colour on a TTY only.
import { EventEmitter } from 'node:events'
import { startPod, type OutputLine, type Pod, type PodEvent, type PodOptions } from '../index.js'

export interface LabIo {
  out: (s: string) => void
  color?: boolean
  /** Options for every pod of the lab (the CLI's --root, --cgroup-parent, --network...). */
  pod?: PodOptions
}

export interface Check {
  what: string
  ok: boolean
  detail?: string
}

export interface LabPod {
  pod: Pod
  events: PodEvent[]
  lines: (container: string) => string[]
  /** The first stdout line of `container` matching `re`; rejects when the pod ends first or after `timeoutMs`. */
  waitFor: (container: string, re: RegExp, timeoutMs?: number) => Promise<string>
}

export class LabRun {
  readonly checks: Check[] = []
  private readonly pods: Pod[] = []
  private n = 0
  constructor(
    readonly io: LabIo,
    readonly lab: string,
  ) {}

  private paint(code: number, s: string): string {
    return this.io.color ? `\x1b[${code}m${s}\x1b[0m` : s
  }

  /** A paragraph of explanation. */
  say(text: string): void {
    this.io.out(`\n${text}\n`)
  }

  /** One piece of evidence, as the kernel reports it. */
  show(label: string, value: string | number): void {
    this.io.out(`  ${this.paint(36, label.padEnd(34))} ${value}\n`)
  }

  check(what: string, ok: boolean, detail?: string): boolean {
    this.checks.push({ what, ok, detail })
    this.io.out(`  ${ok ? this.paint(32, 'ok  ') : this.paint(31, 'FAIL')} ${what}${detail && !ok ? ` (${detail})` : ''}\n`)
    return ok
  }

  /** Start a pod for this lab (stopped at the end of the lab whatever happens). */
  async pod(name: string, spec: Record<string, unknown>, opts: PodOptions = {}): Promise<LabPod> {
    const out: OutputLine[] = []
    const events: PodEvent[] = []
    const bus = new EventEmitter()
    const pod = await startPod(
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `lab-${this.lab}-${name}-${process.pid}-${++this.n}` },
        spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 2, ...spec },
      },
      {
        onManifestWarning: () => {},
        onWarning: () => {},
        // The labs show namespaces with loopback traffic only: no CNI network is made for them.
        network: 'none',
        ...this.io.pod,
        ...opts,
        onOutput: l => {
          out.push(l)
          bus.emit('line', l)
        },
        onEvent: e => {
          events.push(e)
          opts.onEvent?.(e)
        },
      },
    )
    this.pods.push(pod)
    const lines = (c: string) => out.filter(l => l.container === c && l.stream === 'stdout').map(l => l.line)
    const waitFor = (c: string, re: RegExp, timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines(c).find(l => re.test(l))
        if (seen !== undefined) return resolve(seen)
        const timer = setTimeout(() => reject(new Error(`${c} did not print ${re} within ${timeoutMs} ms`)), timeoutMs)
        const on = (l: OutputLine) => {
          if (l.container !== c || l.stream !== 'stdout' || !re.test(l.line)) return
          clearTimeout(timer)
          bus.off('line', on)
          resolve(l.line)
        }
        bus.on('line', on)
        void pod.wait().then(() => {
          clearTimeout(timer)
          reject(new Error(`the pod ended before ${c} printed ${re}`))
        }, reject)
      })
    return { pod, events, lines, waitFor }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.pods.map(p => p.stop({ force: true }).catch(() => undefined)))
  }

  get passed(): boolean {
    return this.checks.length > 0 && this.checks.every(c => c.ok)
  }

  finish(): void {
    const failed = this.checks.filter(c => !c.ok).length
    this.io.out(
      `\n${this.passed ? this.paint(32, 'PASS') : this.paint(31, 'FAIL')}  ${this.lab}: ${this.checks.length - failed}/${this.checks.length} checks hold\n`,
    )
  }
}

export interface Lab {
  name: string
  title: string
  run: (l: LabRun) => Promise<void>
}
