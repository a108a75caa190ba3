// `pod-launch exec POD [-c C] [-i] [-t] -- CMD...`, as kubectl exec: -i passes
// our stdin, -t gives the command a pty made in the container (raw mode on
// our terminal, window size changes forwarded, Ctrl-P Ctrl-Q leaves the
// session); the command's exit code passes through.
import { execInPod, execTerminal } from '../index.js'
import { defaultedNote, type Io } from './output.js'
import { LocalTerminal } from './terminal.js'

export interface ExecFlags {
  container?: string
  stdin: boolean
  tty: boolean
}

/** kubectl's words when -t cannot be honoured. */
export const NO_TTY = 'Unable to use a TTY - input is not a terminal or the right kind of file'

export async function execCommand(root: string, ref: string, argv: string[], flags: ExecFlags, io: Io, term = new LocalTerminal()): Promise<number> {
  // As kubectl: -it with input that is not a terminal runs on pipes (a pty would echo and cook it).
  const noTty = flags.tty && flags.stdin && !term.isTTY
  const onDefault = defaultedNote(io)
  if (!flags.tty || noTty) return execInPod(root, ref, flags.container, argv, { stdin: flags.stdin, onDefault, onFound: () => noTty && io.err(`${NO_TTY}\n`) })

  const session = await execTerminal(root, ref, flags.container, argv, term.size(), onDefault)
  const raw = flags.stdin && term.isTTY
  return new Promise<number>(resolve => {
    let detached = false
    const finish = (code: number) => {
      term.stop()
      signals.forEach(s => process.off(s, onSignal))
      resolve(code)
    }
    // Killed or hung up: restore our terminal; the command's terminal hangs up with us.
    const onSignal = (sig: NodeJS.Signals) => {
      session.terminal.destroy()
      finish(sig === 'SIGHUP' ? 129 : 143)
    }
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP']
    signals.forEach(s => process.once(s, onSignal))
    session.terminal.on('data', (d: Buffer) => process.stdout.write(d))
    void session.exited.then(status => {
      if (!detached) finish(status.exitCode)
    })
    term.start({
      raw,
      input: flags.stdin,
      onInput: data => session.terminal.write(data),
      // A pty has no half-close: the end of our input is the terminal's EOF character.
      onEnd: () => session.terminal.write('\x04'),
      onDetach: () => {
        detached = true
        io.err(`\r\npod-launch: detached from exec ${argv[0]}; its terminal hung up (SIGHUP), as when an ssh session closes\n`)
        session.terminal.destroy()
        finish(0)
      },
      onResize: s => session.resize(s),
    })
  })
}
