// pod-launch command line. Prints through output.ts; never touches the kernel.
import yargs, { type Argv } from 'yargs'
import { printError, processIo, type Io } from './output.js'
import { DEFAULT_STATE_ROOT, supervise } from '../index.js'
import { execCommand, gcCommand, inspectCommand, logsCommand, psCommand, rmCommand, statsCommand, stopCommand } from './manage.js'
import { checkCommand, explainCommand, nsCommand, treeCommand } from './explore.js'
import { runCommand, runDetachedCommand } from './run.js'
import { imageCommand } from './image.js'
import { attachCommand } from './attach.js'
import { table } from './table.js'
import { LABS, runLab } from '../labs/index.js'

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
    .option('detach', { alias: 'd', type: 'boolean', describe: 'run in the background under a supervisor; print the pod id once Running' })
    .option('cgroup-parent', { type: 'string', describe: 'parent of the pod cgroup below each hierarchy root (default pod-launch)' })
    .option('pids-limit', { type: 'number', describe: 'pids.max of the pod cgroup' })
    .option('image-fallback', { type: 'string', choices: ['host'], describe: 'run containers whose image is not in the local store on the host view' })
    .option('network', { type: 'string', choices: ['cni', 'none'], describe: 'cni: the CNI network of --cni-conf-dir (default); none: loopback only (env POD_LAUNCH_NETWORK)' })
    .option('cni-conf-dir', { type: 'string', describe: 'CNI network configs; the first conflist is used, a default one is written when none (default /etc/pod-launch/net.d, env POD_LAUNCH_CNI_CONF_DIR)' })
    .option('cni-bin-dir', { type: 'string', describe: 'CNI plugin dirs, colon-separated (default /usr/lib/cni:/opt/cni/bin, env POD_LAUNCH_CNI_BIN_DIR)' })
    .option('seccomp-default', { type: 'boolean', describe: 'RuntimeDefault seccomp for containers that ask for no profile (as kubelet\'s flag; default Unconfined)' })
}

const podArg = (y: Argv) => y.positional('pod', { type: 'string', describe: 'pod name, id or unique id prefix', demandOption: true })
const podsArg = (y: Argv) => y.positional('pods', { type: 'string', array: true, describe: 'pod names, ids or unique id prefixes', demandOption: true })

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code = 0
  type A = Record<string, unknown> & { root: string }
  /** A command handler: the parsed args as a plain record; its result is the exit code. */
  const h = (fn: (a: A) => Promise<number> | number) => async (a: unknown) => {
    code = await fn(a as A)
  }
  const run = h(a => {
    const args = {
      manifest: a.manifest as string,
      gracePeriod: a.gracePeriod as number | undefined,
      force: a.force as boolean | undefined,
      backoff: a.backoff as string | undefined,
      root: a.root,
      cgroupParent: a.cgroupParent as string | undefined,
      pidsLimit: a.pidsLimit as number | undefined,
      imageFallback: a.imageFallback as 'host' | undefined,
      network: a.network as 'cni' | 'none' | undefined,
      cniConfDir: a.cniConfDir as string | undefined,
      cniBinDir: a.cniBinDir as string | undefined,
      seccompDefault: a.seccompDefault as boolean | undefined,
    }
    return a.detach ? runDetachedCommand(args, io) : runCommand(args, io)
  })
  const parser = yargs(argv)
    .scriptName('pod-launch')
    .usage('$0 [run] MANIFEST\n\nRun a Kubernetes Pod on this host.')
    .parserConfiguration({ 'populate--': true })
    .command('run <manifest>', 'run a pod; in the foreground (Ctrl-C stops it) or with -d under a supervisor', runOptions, run)
    .command('$0 <manifest>', false, runOptions, run)
    .command('ps', 'list pods', y => y.option('json', { type: 'boolean' }), h(a => psCommand(a.root, !!a.json, io)))
    .command('inspect <pod>', 'the pod as JSON (Kubernetes status shape, plus pids, namespaces, cgroups)', podArg, h(a => inspectCommand(a.root, a.pod as string, io)))
    .command(
      'logs <pod>',
      "a container's logs",
      y =>
        podArg(y)
          .option('container', { alias: 'c', type: 'string' })
          .option('follow', { alias: 'f', type: 'boolean' })
          .option('previous', { alias: 'p', type: 'boolean' })
          .option('timestamps', { type: 'boolean' })
          .option('tail', { type: 'number' }),
      h(a => logsCommand(a.root, a.pod as string, { container: a.container as string, follow: !!a.follow, previous: !!a.previous, timestamps: !!a.timestamps, tail: a.tail as number | undefined }, io)),
    )
    .command(
      'exec <pod> [command..]',
      'run a command in a running container: exec POD [-c C] -- CMD...',
      y => podArg(y).option('container', { alias: 'c', type: 'string' }),
      h(a => {
        const cmd = [...((a.command as string[] | undefined) ?? []), ...((a['--'] as string[] | undefined) ?? [])].map(String)
        if (cmd.length === 0) throw new UsageError('exec: a command is required: exec POD -- CMD...')
        return execCommand(a.root, a.pod as string, a.container as string | undefined, cmd)
      }),
    )
    .command(
      'attach <pod>',
      "join a running container's tty or stdin and output (a detached pod); Ctrl-P Ctrl-Q detaches",
      y => podArg(y).option('container', { alias: 'c', type: 'string', describe: 'default: the first container with stdin or tty' }),
      h(a => attachCommand(a.root, a.pod as string, a.container as string | undefined, io)),
    )
    .command(
      'stop <pods..>',
      'stop pods: preStop, SIGTERM, SIGKILL after the grace period',
      y => podsArg(y).option('grace-period', { type: 'number' }).option('force', { type: 'boolean' }),
      h(a => stopCommand(a.root, a.pods as string[], a.gracePeriod as number | undefined, !!a.force, io)),
    )
    .command(
      'rm <pods..>',
      'remove stopped pods (--force stops them first)',
      y => podsArg(y).option('force', { alias: 'f', type: 'boolean' }),
      h(a => rmCommand(a.root, a.pods as string[], !!a.force, io)),
    )
    .command('stats <pod>', 'cpu, memory and pids per container, from the cgroups', y => podArg(y).option('json', { type: 'boolean' }), h(a => statsCommand(a.root, a.pod as string, !!a.json, io)))
    .command('gc', 'remove what no live pod owns: dead pods, state dirs, empty pod cgroups, orphaned pause', y => y.option('dry-run', { type: 'boolean' }).option('json', { type: 'boolean' }), h(a => gcCommand(a.root, !!a.dryRun, !!a.json, io)))
    .command(
      'explain <manifest>',
      'print what a run would do (namespaces, cgroup writes, mounts, exec), creating nothing',
      y => y.positional('manifest', { type: 'string', demandOption: true }).option('json', { type: 'boolean' }).option('cgroup-parent', { type: 'string' }).option('pids-limit', { type: 'number' }).option('seccomp-default', { type: 'boolean', describe: 'as for run' }),
      h(a => explainCommand(a.manifest as string, !!a.json, { cgroupParent: a.cgroupParent as string | undefined, pidsLimit: a.pidsLimit as number | undefined, seccompDefault: a.seccompDefault as boolean | undefined }, io)),
    )
    .command('ns <pod>', "the pod's processes against their namespace inodes", y => podArg(y).option('json', { type: 'boolean' }), h(a => nsCommand(a.root, a.pod as string, !!a.json, io)))
    .command('tree <pod>', "the pod's cgroup tree with processes and limits", podArg, h(a => treeCommand(a.root, a.pod as string, io)))
    .command('check', 'what this host supports, and in which mode each feature runs', y => y.option('json', { type: 'boolean' }).option('seccomp-default', { type: 'boolean', describe: 'as for run' }), h(a => checkCommand(!!a.json, io, { seccompDefault: a.seccompDefault as boolean | undefined })))
    .command(
      'lab [name]',
      'namespace labs: real pods, the kernel\'s evidence, PASS or FAIL (`lab list` names them)',
      y => y.positional('name', { type: 'string', describe: 'a lab, or list' }),
      h(async a => {
        const name = (a.name as string | undefined) ?? 'list'
        if (name === 'list') {
          io.out(table(['LAB', 'WHAT IT SHOWS'], LABS.map(l => [l.name, l.title])))
          return 0
        }
        const color = io === processIo && !!process.stdout.isTTY
        return (await runLab(name, { out: io.out, color })).passed ? 0 : 1
      }),
    )
    .command(
      'image <action> [args..]',
      'the local image store: image import FILE [name:tag] (docker save / OCI archive), image ls, image rm NAME',
      y => y.positional('action', { type: 'string', choices: ['import', 'ls', 'list', 'rm', 'remove'] }).option('json', { type: 'boolean' }),
      h(a => imageCommand(a.root, a.action as string, ((a.args as unknown[] | undefined) ?? []).map(String), !!a.json, io, m => new UsageError(m))),
    )
    .command('__supervise <id>', false, y => y.positional('id', { type: 'string', demandOption: true }), h(a => supervise(a.root, a.id as string)))
    .option('root', { type: 'string', describe: 'state root', default: DEFAULT_STATE_ROOT, global: true })
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
