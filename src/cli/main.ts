// pod-launch command line. Prints through output.ts; never touches the kernel.
//
// Only yargs and the small modules every command needs are loaded at start:
// each handler imports its command's module when it runs (`ps` never loads
// the pod, image or network code), which keeps a call's fixed cost near Node's
// own start-up (issue 21). Keep it so: no static import of ../index.js here or
// in globals.ts/output.ts/table.ts.
import yargs, { type Argv } from 'yargs'
import { defaultedNote, printError, processIo, writtenDirectly, type Io } from './output.js'
import { table } from './table.js'
import { formatOf, outputOptions, type Format } from './format.js'
import {
  UsageError,
  asRootError,
  checkCommandWord,
  firstWord,
  globalOptions,
  globalsOf,
  requireRoot,
  strictOption,
  wholeNumber,
  type Globals,
} from './globals.js'

const gracePeriod = { type: 'string', coerce: wholeNumber('grace-period', { negativeIsDefault: true }) } as const

/** --configmap / --secret: repeatable, each a comma-separated list (as podman kube play takes them). */
const pathList = (what: string) =>
  ({
    type: 'string',
    describe: `files (or directories of files) of ${what} documents the pods may read; repeatable, or comma-separated`,
    coerce: (v: unknown): string[] => (Array.isArray(v) ? v : [v]).flatMap(x => String(x).split(',')).filter(Boolean),
  }) as const

function runOptions(y: Argv) {
  return y
    .positional('manifest', {
      type: 'string',
      describe: 'manifest (YAML or JSON): Pods, workloads (Deployment, Job, ...), ConfigMaps and Secrets, as documents or a List',
      demandOption: true,
    })
    .option('configmap', pathList('ConfigMap'))
    .option('secret', pathList('Secret'))
    .option('persist', { type: 'boolean', describe: 'with -d: keep the pods so that `pod-launch boot` starts them again after a reboot' })
    .option('grace-period', {
      ...gracePeriod,
      describe: "seconds between SIGTERM and SIGKILL on Ctrl-C; negative: the pod's terminationGracePeriodSeconds (default)",
    })
    .option('force', { type: 'boolean', describe: 'on Ctrl-C kill at once (with --grace-period=0)' })
    .option('backoff', { type: 'string', describe: "restart backoff: initial[,max], e.g. 100ms or 1s,10s (default kubelet's 10s,5m)" })
    .option('detach', {
      alias: 'd',
      type: 'boolean',
      describe: "run in the background, held by the pod's shim and driven by the root's engine; print the pod id once Running",
    })
    .option('pids-limit', { type: 'string', coerce: wholeNumber('pids-limit', { min: 1 }), describe: 'pids.max of the pod cgroup' })
    .option('single-process-oom-kill', {
      type: 'boolean',
      describe: "cgroup v2: the OOM killer takes one process, not the whole container (kubelet's singleProcessOOMKill; default: memory.oom.group=1)",
    })
    .option('image-fallback', { type: 'string', choices: ['host'], describe: 'run containers whose image is not in the local store on the host view' })
    .option('seccomp-default', {
      type: 'boolean',
      describe: "RuntimeDefault seccomp for containers that ask for no profile (as kubelet's flag; default Unconfined)",
    })
    .option('strict', strictOption)
}

const podArg = (y: Argv) => y.positional('pod', { type: 'string', describe: 'pod name, id or unique id prefix', demandOption: true })
const podsArg = (y: Argv) => y.positional('pods', { type: 'string', array: true, describe: 'pod names, ids or unique id prefixes', demandOption: true })
const CONTAINER_OPTION = {
  alias: 'c',
  type: 'string',
  describe: 'the container (default: the kubectl.kubernetes.io/default-container annotation, else the first)',
} as const
const json = (y: Argv) => y.option('json', { type: 'boolean', describe: 'print JSON' })

/** Build the parser: `handle(fn)` wraps each command's handler (the exit code is its result). */
export function commands(io: Io, env: NodeJS.ProcessEnv, handle: (fn: (a: A, g: Globals) => Promise<number> | number) => (a: unknown) => Promise<void>): Argv {
  const h = handle
  const imageModule = () => import('./image.js')
  const run = h(async (a, g) => {
    // The manifest's problems first: they need no root to be found.
    if (process.getuid?.() !== 0) {
      const { loadManifestFile } = await import('../index.js')
      loadManifestFile(a.manifest as string, {
        strict: a.strict as boolean,
        configMaps: a.configmap as string[] | undefined,
        secrets: a.secret as string[] | undefined,
      })
      requireRoot('run')
    }
    const args = {
      manifest: a.manifest as string,
      gracePeriod: a.gracePeriod as number | undefined,
      force: a.force as boolean | undefined,
      backoff: a.backoff as string | undefined,
      root: g.root,
      cgroupParent: g.cgroupParent,
      pidsLimit: a.pidsLimit as number | undefined,
      singleProcessOOMKill: a.singleProcessOomKill as boolean | undefined,
      imageFallback: a.imageFallback as 'host' | undefined,
      network: g.network,
      cniConfDir: g.cniConfDir,
      cniBinDir: g.cniBinDir,
      seccompDefault: a.seccompDefault as boolean | undefined,
      strict: a.strict as boolean,
      configMaps: a.configmap as string[] | undefined,
      secrets: a.secret as string[] | undefined,
      persist: a.persist as boolean | undefined,
      persistRoot: g.persistRoot,
    }
    const { runCommand, runDetachedCommand } = await import('./manifest-run.js')
    return a.detach ? runDetachedCommand(args, io) : runCommand(args, io)
  })
  const flags = (a: Record<string, unknown>) => ({
    json: !!a.json,
    format: a.output as Format | undefined,
    force: !!a.force,
    maxLayerSize: a.maxLayerSize as string | undefined,
    maxImageSize: a.maxImageSize as string | undefined,
  })
  const sizeOptions = {
    'max-layer-size': { type: 'string', describe: 'refuse a layer that expands past this (default 8GiB, env POD_LAUNCH_MAX_LAYER_SIZE)' },
    'max-image-size': { type: 'string', describe: 'refuse an image whose layers expand past this (default 32GiB, env POD_LAUNCH_MAX_IMAGE_SIZE)' },
  } as const
  const image = (y: Argv) =>
    json(y)
      .command(
        ['import <file> [name]', 'load'],
        'import a docker save or OCI archive into the local store: every image it holds (name:tag picks or names one)',
        y => y.positional('file', { type: 'string', demandOption: true }).positional('name', { type: 'string', describe: 'name:tag' }).options(sizeOptions),
        h(async (a, g) =>
          (await imageModule()).imageCommand(g.root, 'import', [a.file as string, ...(a.name ? [a.name as string] : [])], flags(a), io, m => new UsageError(m)),
        ),
      )
      .command(
        ['ls', 'list'],
        'list the local images: one row per name',
        y => outputOptions(y, 'image records with full ids (json, yaml), digest, layers and full id (wide), or the names'),
        h(async (a, g) => (await imageModule()).imageCommand(g.root, 'ls', [], flags(a), io, m => new UsageError(m))),
      )
      .command(
        'inspect <names..>',
        "print an image's config, manifest digest and layers (JSON)",
        y => y.positional('names', { type: 'string', array: true, demandOption: true }),
        h(async (a, g) => (await imageModule()).imageCommand(g.root, 'inspect', (a.names as string[]).map(String), flags(a), io, m => new UsageError(m))),
      )
      .command(
        ['rm <names..>', 'remove'],
        'remove images and the layers no other image uses (refused while a live pod uses one)',
        y =>
          y
            .positional('names', { type: 'string', array: true, demandOption: true })
            .option('force', { alias: 'f', type: 'boolean', describe: 'remove even while a pod uses it: its layers stay until gc' }),
        h(async (a, g) => (await imageModule()).imageCommand(g.root, 'rm', (a.names as string[]).map(String), flags(a), io, m => new UsageError(m))),
      )
      .command(
        'pull <ref>',
        'pull an image from a registry into the local store (docker.io short names as Kubernetes resolves them)',
        y =>
          y
            .positional('ref', { type: 'string', demandOption: true, describe: 'busybox, HOST[:PORT]/repo:tag or repo@sha256:...' })
            .option('platform', { type: 'string', describe: 'os/arch[/variant] from a multi-platform image (default this host)' })
            .option('quiet', { alias: 'q', type: 'boolean', describe: 'print only the image reference' })
            .option('timeout', {
              type: 'string',
              describe: 'give up on a registry silent this long, or a name that does not resolve in it (default 30s)',
            })
            .options(sizeOptions),
        h(async (a, g) =>
          (await imageModule()).imageCommand(g.root, 'pull', [a.ref as string], flags(a), io, m => new UsageError(m), {
            platform: a.platform as string | undefined,
            quiet: !!a.quiet,
            timeout: a.timeout as string | undefined,
          }),
        ),
      )
      .command(
        'login <host>',
        'check and store credentials for a registry (0600, in $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or ~/.docker/config.json)',
        y =>
          y
            .positional('host', { type: 'string', demandOption: true })
            .option('username', { alias: 'u', type: 'string', describe: 'user name' })
            .option('password-stdin', { type: 'boolean', describe: 'read the password from stdin' }),
        h(async (a, g) =>
          (await imageModule()).imageCommand(g.root, 'login', [a.host as string], flags(a), io, m => new UsageError(m), {
            username: a.username as string | undefined,
            passwordStdin: !!a.passwordStdin,
          }),
        ),
      )
      .command(
        'logout <host>',
        'remove the stored credentials for a registry',
        y => y.positional('host', { type: 'string', demandOption: true }),
        h(async (a, g) => (await imageModule()).imageCommand(g.root, 'logout', [a.host as string], flags(a), io, m => new UsageError(m))),
      )
      .demandCommand(1, 'image: an action is required: pull, import, ls, inspect, rm, login or logout')
  const parser = yargs()
    .scriptName('pod-launch')
    .usage('$0 [run] MANIFEST\n\nRun a Kubernetes Pod on this host.')
    .parserConfiguration({ 'populate--': true })
    .command('run <manifest>', 'run a pod; in the foreground (Ctrl-C stops it) or with -d in the background (docs/shim.md)', runOptions, run)
    .command('$0 <manifest>', false, runOptions, run)
    .command(
      'ps',
      'list pods: -l and --filter choose them; --json gives one object per pod, -o json|yaml the Kubernetes Pods',
      y =>
        outputOptions(
          y,
          'the pods as a List of Kubernetes Pods (json, yaml) or pod/NAME',
          'one summary per pod (podman ps --format json): full id, labels, phase, start time, each container',
        )
          .option('selector', { alias: 'l', type: 'string', describe: 'label selector: key=value, key!=value, key in (a,b), key notin (a,b), key, !key' })
          .option('filter', {
            alias: 'f',
            type: 'string',
            array: true,
            describe: 'name=REGEX, id=PREFIX, label=KEY[=VALUE], phase=PHASE (or status=), namespace=NS; repeatable',
          }),
      h(async (a, g) =>
        (await import('./ps.js')).psCommand(
          g.root,
          { format: formatOf(a), kube: a.output !== undefined, selector: a.selector as string | undefined, filters: a.filter as string[] | undefined },
          io,
        ),
      ),
    )
    .command(
      'inspect <pod>',
      'the pod as Kubernetes shows it (kubectl get pod -o json|yaml): the spec as the API server defaults it, the status kubelet writes; ours under podLaunch',
      y => outputOptions(podArg(y), 'json (default), yaml, wide (its ps line) or pod/NAME'),
      h(async (a, g) =>
        (await import('./manage.js')).inspectCommand(g.root, a.pod as string, (a.output as 'json' | 'yaml' | 'wide' | 'name' | undefined) ?? 'json', io),
      ),
    )
    .command(
      'logs <pod>',
      "a container's logs (kubectl logs): -c, --all-containers, -f, --since, --tail, --prefix",
      y =>
        podArg(y)
          .option('container', CONTAINER_OPTION)
          .option('all-containers', { type: 'boolean', describe: 'every container, init containers first, each line prefixed [container]' })
          .option('follow', { alias: 'f', type: 'boolean', describe: 'keep printing new lines' })
          .option('previous', { alias: 'p', type: 'boolean', describe: "the previous run's logs" })
          .option('timestamps', { type: 'boolean', describe: 'prefix each line with its RFC3339 time' })
          .option('tail', { type: 'string', coerce: wholeNumber('tail', { negativeIsDefault: true }), describe: 'the last N lines (negative: all)' })
          .option('since', { type: 'string', describe: 'only lines newer than this: 30s, 5m, 1h' })
          .option('since-time', { type: 'string', describe: 'only lines at or after this RFC3339 time' })
          .option('prefix', { type: 'boolean', describe: 'prefix each line with [pod/NAME/CONTAINER]' })
          .conflicts('since', 'since-time')
          .conflicts('container', 'all-containers'),
      h(async (a, g) =>
        (await import('./manage.js')).logsCommand(
          g.root,
          a.pod as string,
          {
            container: a.container as string | undefined,
            allContainers: !!a.allContainers,
            prefix: !!a.prefix,
            follow: !!a.follow,
            previous: !!a.previous,
            timestamps: !!a.timestamps,
            tail: a.tail as number | undefined,
            sinceMs: await sinceOf(a.since as string | undefined, a.sinceTime as string | undefined),
            onDefault: defaultedNote(io),
          },
          io,
        ),
      ),
    )
    .command(
      'events [pod]',
      "a pod's events as kubectl describe lists them (every pod's without POD)",
      y => outputOptions(y.positional('pod', { type: 'string', describe: 'pod name, id or unique id prefix' }), 'core/v1 Events (json, yaml)'),
      h(async (a, g) => (await import('./events.js')).eventsCommand(g.root, a.pod as string | undefined, formatOf(a), io)),
    )
    .command(
      'wait <pod>',
      'wait for a condition of a pod (kubectl wait): --for=condition=Ready, --for=condition=Ready=false, --for=delete',
      y =>
        podArg(y)
          .option('for', { type: 'string', demandOption: true, describe: 'condition=NAME[=true|false] (Ready, ContainersReady, Initialized, ...) or delete' })
          .option('timeout', { type: 'string', default: '30s', describe: 'give up after this long (30s, 5m; 0: check once)' }),
      h(async (a, g) => {
        const { parseWaitFor, waitForPod } = await import('../index.js')
        const forWhat = parseWaitFor(a.for as string)
        const ms = await duration(a.timeout as string, '--timeout')
        const name = await waitForPod(g.root, a.pod as string, forWhat, ms < 0 ? 7 * 86_400_000 : ms)
        io.out(`pod/${name} condition met\n`)
        return 0
      }),
    )
    .command(
      'exec <pod> [command..]',
      'run a command in a running container: exec [-i] [-t] POD [-c C] -- CMD... (-it: a shell on a tty; Ctrl-P Ctrl-Q leaves it)',
      y =>
        podArg(y)
          .option('container', CONTAINER_OPTION)
          .option('stdin', { alias: 'i', type: 'boolean', describe: 'pass our stdin to the command (else it reads /dev/null)' })
          .option('tty', { alias: 't', type: 'boolean', describe: 'a terminal made in the container: raw input, window size, Ctrl-P Ctrl-Q detaches' }),
      h(async (a, g) => {
        const cmd = [...((a.command as string[] | undefined) ?? []), ...((a['--'] as string[] | undefined) ?? [])].map(String)
        if (cmd.length === 0) throw new UsageError(EXEC_USAGE)
        requireRoot('exec')
        return (await import('./exec.js')).execCommand(
          g.root,
          a.pod as string,
          cmd,
          { container: a.container as string | undefined, stdin: !!a.stdin, tty: !!a.tty },
          io,
        )
      }),
    )
    .command(
      'cp <src> <dest>',
      'copy files into or out of a running container (kubectl cp): cp POD:/path LOCAL, cp LOCAL POD:/path (the image needs tar)',
      y =>
        y
          .positional('src', { type: 'string', demandOption: true, describe: 'POD:PATH or a local path' })
          .positional('dest', { type: 'string', demandOption: true, describe: 'a local path or POD:PATH' })
          .option('container', CONTAINER_OPTION),
      h(async (a, g) => {
        const { copyFromPod, copyToPod, parseCpArg } = await import('../index.js')
        const src = parseCpArg(String(a.src))
        const dest = parseCpArg(String(a.dest))
        if (!!src.pod === !!dest.pod)
          throw new UsageError('cp: one side is POD:PATH and the other a local path\nusage: pod-launch cp POD:PATH LOCAL | pod-launch cp LOCAL POD:PATH')
        const container = a.container as string | undefined
        if (src.pod) await copyFromPod(g.root, src.pod, container, src.path, dest.path)
        else await copyToPod(g.root, dest.pod!, container, src.path, dest.path)
        return 0
      }),
    )
    .command(
      'port-forward <pod> <ports..>',
      "forward local ports to a pod (kubectl port-forward): LOCAL:REMOTE, REMOTE or :REMOTE; from the host's loopback into the pod's network namespace",
      y =>
        podArg(y)
          .positional('ports', { type: 'string', array: true, demandOption: true, describe: '8080:80, 80 or :80' })
          .option('address', { type: 'string', array: true, default: ['localhost'], describe: 'addresses to listen on (localhost: 127.0.0.1 and ::1)' }),
      h(async (a, g) => {
        const { parsePortPair, portForward } = await import('../index.js')
        const pairs = (a.ports as string[]).map(p => parsePortPair(String(p)))
        const fwd = await portForward(g.root, a.pod as string, pairs, (a.address as string[]).map(String), {
          listening: (address, local, remote) => io.out(`Forwarding from ${address.includes(':') ? `[${address}]` : address}:${local} -> ${remote}\n`),
          connection: local => io.out(`Handling connection for ${local}\n`),
          error: m => io.err(`pod-launch: ${m}\n`),
        })
        const stop = () => fwd.stop()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        const why = await fwd.done
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        if (why === 'stopped') return 0
        io.err(`pod-launch: ${why}\n`)
        return 1
      }),
    )
    .command(
      'attach <pod>',
      "join a running container's tty or stdin and output (a detached pod); Ctrl-P Ctrl-Q detaches",
      y => podArg(y).option('container', { alias: 'c', type: 'string', describe: 'default: the first container with stdin or tty' }),
      h(async (a, g) => (await import('./attach.js')).attachCommand(g.root, a.pod as string, a.container as string | undefined, io)),
    )
    .command(
      'stop <pods..>',
      'stop pods: preStop, SIGTERM, SIGKILL after the grace period',
      y =>
        podsArg(y)
          .option('grace-period', { ...gracePeriod, describe: "seconds before SIGKILL; negative: the pod's terminationGracePeriodSeconds (default)" })
          .option('force', { type: 'boolean', describe: 'kill at once' }),
      h(async (a, g) => (await import('./manage.js')).stopCommand(g.root, a.pods as string[], a.gracePeriod as number | undefined, !!a.force, io)),
    )
    .command(
      'rm <pods..>',
      'remove stopped pods (--force stops them first); a manifest FILE names the pods `run FILE` made',
      y => podsArg(y).option('force', { alias: 'f', type: 'boolean', describe: 'stop running pods first' }),
      h(async (a, g) => {
        const { manifestPath } = await import('../index.js')
        const { podsOfFile } = await import('./manifest-run.js')
        // A path to a manifest (a/b.yaml, ./pod.json) stands for the pods run FILE made, as kubectl delete -f.
        const isFile = (r: string) => (r.includes('/') || /\.(ya?ml|json)$/i.test(r)) && manifestPath(r) !== undefined
        const refs = (a.pods as string[]).map(String).flatMap(r => (isFile(r) ? podsOfFile(g.root, r).map(p => p.id) : [r]))
        return (await import('./manage.js')).rmCommand(g.root, refs, !!a.force, io, g.persistRoot)
      }),
    )
    .command(
      'down <manifest>',
      'stop and remove the pods `run FILE` made (as kubectl delete -f, podman kube down), and forget them for boot',
      y =>
        y
          .positional('manifest', { type: 'string', demandOption: true, describe: 'the manifest file given to run' })
          .option('grace-period', { ...gracePeriod, describe: "seconds before SIGKILL; negative: each pod's terminationGracePeriodSeconds (default)" })
          .option('force', { type: 'boolean', describe: 'kill at once' }),
      h(async (a, g) =>
        (await import('./manifest-run.js')).downCommand(
          g.root,
          g.persistRoot,
          a.manifest as string,
          { gracePeriodSeconds: a.gracePeriod as number | undefined, force: !!a.force },
          io,
        ),
      ),
    )
    .command(
      'boot',
      'start every pod kept with run -d --persist (pod-launch-boot.service runs this at boot)',
      y => y,
      h(async (_a, g) => (await import('./manifest-run.js')).bootCommand(g.persistRoot, io)),
    )
    .command(
      'stats <pod>',
      'cpu (millicores and % of one CPU over --interval), memory (and % of its limit), pids per container and for the pod, from the cgroups',
      y =>
        outputOptions(podArg(y), 'the rows as data (json, yaml), with limits, peak and OOM kills (wide), or the container names')
          .option('watch', { alias: 'w', type: 'boolean', describe: 'print again every interval until the pod stops' })
          .option('interval', { type: 'string', default: '1s', describe: 'how long each CPU reading spans (kubectl duration: 500ms, 2s)' }),
      h(async (a, g) => {
        const intervalMs = await duration(a.interval as string, '--interval')
        if (intervalMs < 100) throw new UsageError(`--interval ${String(a.interval)}: must be at least 100ms`)
        return (await import('./manage.js')).statsCommand(g.root, a.pod as string, { format: formatOf(a), watch: !!a.watch, intervalMs }, io)
      }),
    )
    .command(
      'gc',
      "remove what is this root's and provably dead: dead pods, state dirs, empty pod cgroups, orphaned pause (another root's orphans are reported)",
      y =>
        json(y.option('dry-run', { type: 'boolean', describe: 'only say what would be removed' }))
          .option('cgroup-parent', {
            type: 'string',
            array: true,
            describe: 'also scan this cgroup parent (repeatable; default pod-launch); the parents the records name are always scanned',
          })
          .option('all-roots', { type: 'boolean', alias: 'force', describe: 'also kill and remove orphans no record of this root names' }),
      h(async (a, g) =>
        (await import('./manage.js')).gcCommand(
          g.root,
          { dryRun: !!a.dryRun, cgroupParents: a.cgroupParent as string[] | undefined, allRoots: !!a.allRoots },
          !!a.json,
          io,
        ),
      ),
    )
    .command(
      'explain <manifest>',
      'print what a run would do (namespaces, cgroup writes, mounts, exec), creating nothing',
      y =>
        json(y.positional('manifest', { type: 'string', demandOption: true }))
          .option('pids-limit', { type: 'string', coerce: wholeNumber('pids-limit', { min: 1 }), describe: 'as for run' })
          .option('single-process-oom-kill', { type: 'boolean', describe: 'as for run' })
          .option('seccomp-default', { type: 'boolean', describe: 'as for run' })
          .option('configmap', pathList('ConfigMap'))
          .option('secret', pathList('Secret'))
          .option('strict', strictOption),
      h(async (a, g) =>
        (await import('./explore.js')).explainCommand(
          a.manifest as string,
          !!a.json,
          {
            strict: a.strict as boolean,
            configMaps: a.configmap as string[] | undefined,
            secrets: a.secret as string[] | undefined,
            cgroupParent: g.cgroupParent,
            pidsLimit: a.pidsLimit as number | undefined,
            singleProcessOOMKill: a.singleProcessOomKill as boolean | undefined,
            seccompDefault: a.seccompDefault as boolean | undefined,
            stateRoot: g.root,
            network: g.network,
            cniConfDir: g.cniConfDir,
            cniBinDir: g.cniBinDir,
          },
          io,
        ),
      ),
    )
    .command(
      'ns <pod>',
      "the pod's processes against their namespace inodes",
      y => json(podArg(y)),
      h(async (a, g) => (await import('./explore.js')).nsCommand(g.root, a.pod as string, !!a.json, io)),
    )
    .command(
      'tree <pod>',
      "the pod's cgroup tree with processes and limits",
      podArg,
      h(async (a, g) => (await import('./explore.js')).treeCommand(g.root, a.pod as string, io)),
    )
    .command(
      'cri',
      'serve the Kubernetes CRI (runtime.v1 RuntimeService + ImageService) for kubelet and crictl on a unix socket, until SIGINT/SIGTERM',
      y =>
        y
          .option('listen', { type: 'string', describe: 'unix:///path of the socket (default unix:///run/pod-launch/cri.sock)' })
          .option('stream-address', {
            type: 'string',
            describe: 'address of the streaming server of exec/attach/port-forward (default 127.0.0.1; kubelet must reach it)',
          })
          .option('stream-port', { type: 'string', coerce: wholeNumber('stream-port'), describe: 'its port (default 0: any free one)' }),
      h(async (a, g) =>
        (await import('./cri.js')).criCommand(
          { listen: a.listen as string | undefined, streamAddress: a.streamAddress as string | undefined, streamPort: a.streamPort as number | undefined },
          g,
          io,
        ),
      ),
    )
    .command(
      'check',
      'what this host supports, and in which mode each feature runs',
      y => json(y).option('seccomp-default', { type: 'boolean', describe: 'as for run' }),
      h(async (a, g) =>
        (await import('./explore.js')).checkCommand(!!a.json, io, {
          seccompDefault: a.seccompDefault as boolean | undefined,
          network: g.network,
          cniConfDir: g.cniConfDir,
          cniBinDir: g.cniBinDir,
        }),
      ),
    )
    .command(
      'lab [name]',
      "namespace labs: real pods, the kernel's evidence, PASS or FAIL (`lab list` names them)",
      y => y.positional('name', { type: 'string', describe: 'a lab, or list' }),
      h(async (a, g) => {
        const name = (a.name as string | undefined) ?? 'list'
        const { LABS, runLab } = await import('../labs/index.js')
        if (name === 'list') {
          io.out(
            table(
              ['LAB', 'WHAT IT SHOWS'],
              LABS.map(l => [l.name, l.title]),
            ),
          )
          return 0
        }
        const color = io === processIo && !!process.stdout.isTTY
        // stateRoot: the pods' directories; root: the image store under it (as run's).
        const pod = {
          root: g.root,
          stateRoot: g.root,
          ...(g.cgroupParent ? { cgroupParent: g.cgroupParent } : {}),
          ...(g.network ? { network: g.network, cniConfDir: g.cniConfDir, cniBinDir: g.cniBinDir } : {}),
        }
        return (await runLab(name, { out: io.out, color, pod })).passed ? 0 : 1
      }),
    )
    .command(
      'image',
      'images: image pull REF, image import FILE [name:tag] (docker save / OCI archive, every image it holds), ' +
        'image ls, image inspect NAME, image rm [--force] NAME, image login|logout HOST',
      image,
    )
    .command(
      'completion <shell>',
      'print a shell completion script: source <(pod-launch completion bash)',
      y => y.positional('shell', { type: 'string', choices: ['bash', 'zsh'], demandOption: true }),
      h(async a => {
        io.out((await import('./completion.js')).completionScript(a.shell as string))
        return 0
      }),
    )
    .command(
      '__engine',
      false,
      y => y,
      h(async (_a, g) => (await import('../index.js')).runEngine(g.root)),
    )
  skipHelpCache(parser)
  return globalOptions(parser, env)
    .completion('__completion', false)
    .wrap(Math.min(100, (!writtenDirectly(1) && process.stdout.columns) || 100))
    .help()
    .alias('help', 'h')
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      // A handler's error passes as it is; yargs' own (an option's coerce included) is a usage error.
      if (err && !(err instanceof UsageError) && err.name !== 'YError') throw err
      throw new UsageError(err?.message ?? msg)
    })
}

type A = Record<string, unknown>

/**
 * yargs renders a command's whole help text before running its handler, in
 * case the handler shows it later. Ours never do (fail() throws, --help is
 * answered before any handler), and that rendering (cliui, wrap-ansi) was a
 * third of `ps`'s start-up: it is skipped. yargs' usage instance is internal,
 * so this does nothing if its shape changes.
 */
function skipHelpCache(parser: Argv): void {
  type Usage = { cacheHelpMessage?: () => void }
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.()
  const usage = internal?.getUsageInstance?.()
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {}
}

/** A kubectl duration in ms (its parser loaded when a command takes one). */
async function duration(s: string, option: string): Promise<number> {
  return (await import('../manage/duration.js')).parseDuration(s, option)
}

/** --since (a duration back from now) or --since-time (RFC3339) as a time in ms. */
async function sinceOf(since: string | undefined, sinceTime: string | undefined): Promise<number | undefined> {
  if (since !== undefined) return Date.now() - (await duration(since, '--since'))
  if (sinceTime === undefined) return undefined
  const t = Date.parse(sinceTime)
  if (Number.isNaN(t)) throw new UsageError(`--since-time ${sinceTime}: not an RFC3339 time (e.g. 2025-01-31T10:00:00Z)`)
  return t
}

const EXEC_USAGE = 'exec: a command is required\nusage: pod-launch exec [-i] [-t] POD [-c CONTAINER] -- COMMAND [ARG...]'

/** The command words (for "unknown command" and completion). */
export const COMMANDS = [
  'run',
  'ps',
  'inspect',
  'logs',
  'exec',
  'attach',
  'events',
  'wait',
  'cp',
  'port-forward',
  'stop',
  'rm',
  'down',
  'boot',
  'stats',
  'gc',
  'explain',
  'ns',
  'tree',
  'check',
  'cri',
  'lab',
  'image',
  'completion',
  '__engine',
  '__completion',
  'help',
]

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code = 0
  let debug = argv.includes('--debug')
  const handle = (fn: (a: A, g: Globals) => Promise<number> | number) => async (a: unknown) => {
    const g = globalsOf(a as A)
    debug = g.debug
    const word = firstWord(argv)
    const command = word !== undefined && COMMANDS.includes(word) ? word : 'run'
    if (command !== 'run' && command !== 'exec' && !(command === 'lab' && ((a as A).name ?? 'list') === 'list')) requireRoot(command)
    code = await fn(a as A, g)
  }
  try {
    if (!argv.includes('--get-yargs-completions')) checkCommandWord(argv, COMMANDS)
    let printed = ''
    await commands(io, env, handle).parseAsync(argv, {}, (_err, _argv, output) => {
      printed = output
    })
    if (printed) io.out(`${printed}\n`)
  } catch (e) {
    if (e instanceof UsageError) {
      // A command's own help is nearer than the overview, as kubectl's "See 'kubectl exec -h'".
      const word = firstWord(argv)
      const command = word !== undefined && COMMANDS.includes(word) && !word.startsWith('__') ? word : undefined
      const message =
        command === 'exec' && /^Not enough non-option arguments/.test(e.message) ? EXEC_USAGE.replace('a command is', 'a pod and a command are') : e.message
      io.err(`pod-launch: ${message}\nhint: pod-launch ${command ? `${command} ` : ''}--help\n`)
      return 2
    }
    return printError(io, asRootError(e), debug)
  }
  return code
}

/**
 * The bin entry: run with the process's argv and exit with the code once
 * stdout and stderr have drained (process.exit drops what a slow pipe reader
 * has not taken yet). A reader that went away (EPIPE: `logs POD | head -1`)
 * ends the command quietly with 0, as there is nobody left to tell.
 */
export function cli(): void {
  for (const s of streams()) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e
      process.exit(0)
    })
  }
  void main(process.argv.slice(2)).then(exitWhenFlushed)
}

/** process.stdout and process.stderr, each unless its fd is written directly (output.ts: a file or /dev/null, written synchronously). */
function streams(): NodeJS.WriteStream[] {
  return ([1, 2] as const).filter(fd => !writtenDirectly(fd)).map(fd => (fd === 1 ? process.stdout : process.stderr))
}

function exitWhenFlushed(code: number): void {
  const open = streams()
  let pending = open.length
  if (pending === 0) process.exit(code)
  const done = () => {
    if (--pending === 0) process.exit(code)
  }
  // A write's callback runs after every earlier write reached the kernel.
  for (const s of open) s.write('', done)
}
