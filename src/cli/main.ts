// pod-launch command line. Prints through output.ts; never touches the kernel.
import yargs, { type Argv } from 'yargs'
import { printError, processIo, type Io } from './output.js'
import { runCommand } from './run.js'

class UsageError extends Error {}

function runOptions(y: Argv) {
  return y
    .positional('manifest', { type: 'string', describe: 'Pod manifest (YAML or JSON)', demandOption: true })
    .option('grace-period', {
      type: 'number',
      describe: "seconds between SIGTERM and SIGKILL on Ctrl-C (default: the pod's terminationGracePeriodSeconds)",
    })
    .option('force', { type: 'boolean', describe: 'on Ctrl-C kill at once (with --grace-period=0)' })
    .option('backoff', { type: 'string', describe: "restart backoff: initial[,max], e.g. 100ms or 1s,10s (default kubelet's 10s,5m)" })
    .option('root', { type: 'string', describe: 'state root for the pod directory (logs)', default: '/run/pod-launch' })
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0
  const run = async (a: { manifest?: string; gracePeriod?: number; force?: boolean; backoff?: string; root?: string }) => {
    code = await runCommand({ manifest: a.manifest!, gracePeriod: a.gracePeriod, force: a.force, backoff: a.backoff, root: a.root }, io)
  }
  const parser = yargs(argv)
    .scriptName('pod-launch')
    .usage('$0 [run] MANIFEST\n\nRun a Kubernetes Pod on this host, in the foreground.')
    .command('run <manifest>', 'run a pod in the foreground; Ctrl-C stops it', runOptions, run)
    .command('$0 <manifest>', false, runOptions, run)
    .option('debug', { type: 'boolean', describe: 'print causes and stacks of errors' })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg)
    })
  try {
    let printed = ''
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      printed = output
    })
    if (printed) io.out(`${printed}\n`)
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`pod-launch: ${e.message}\nhint: pod-launch --help\n`)
      return 2
    }
    return printError(io, e, argv.includes('--debug'))
  }
  return code
}

/** The bin entry: run with the process's argv and exit with the code. */
export function cli(): void {
  main(process.argv.slice(2)).then(code => process.exit(code))
}
