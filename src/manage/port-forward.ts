// `port-forward POD [LOCAL:]REMOTE...`, as kubectl port-forward: listen on the
// host's loopback (127.0.0.1 and ::1, or --address), and for each connection
// connect to localhost:REMOTE inside the pod's network namespace (a socket
// made there by the addon, as the probes do: no pod IP, no route needed) and
// pipe both ways. Ends when the pod's sandbox is gone.
import { closeSync, openSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { PodError } from '../errors.js'
import { connectInPod } from '../pod/index.js'
import { isAlive, resolvePod } from '../state/index.js'

export interface PortPair {
  /** 0: any free port (`:REMOTE`). */
  local: number
  remote: number
}

/** `8080:80`, `80` (the same port on both sides), `:80` (a free local port). Throws `port-forward` (exit 2). */
export function parsePortPair(s: string): PortPair {
  const m = /^(\d*)(?::(\d+))?$/.exec(s)
  const bad = () =>
    new PodError(`port-forward: ${JSON.stringify(s)}: not a port pair`, {
      step: 'port-forward',
      code: 'EINVAL',
      exitCode: 2,
      hint: 'LOCAL:REMOTE (8080:80), REMOTE alone (the same local port) or :REMOTE (a free local port); ports 1-65535',
    })
  if (!m || (m[1] === '' && m[2] === undefined)) throw bad()
  const remote = Number(m[2] ?? m[1])
  const local = m[2] === undefined ? remote : m[1] === '' ? 0 : Number(m[1])
  if (remote < 1 || remote > 65535 || local > 65535 || (m[1] !== '' && local < 1)) throw bad()
  return { local, remote }
}

export interface ForwardEvents {
  /** Listening: `address:local -> remote`. */
  listening(address: string, local: number, remote: number): void
  /** A connection came in on `local`. */
  connection(local: number): void
  /** A connection could not be forwarded (the error names the pod side). */
  error(message: string): void
}

export interface PortForward {
  /** Resolves when the forward ends (stop(), or the pod's sandbox went away); with the reason. */
  readonly done: Promise<string>
  stop(): void
}

/** Start forwarding; resolves once every listener is up (throws `port-forward` when one cannot listen). */
export async function portForward(root: string, ref: string, pairs: PortPair[], addresses: string[], on: ForwardEvents): Promise<PortForward> {
  const { record: r, error } = resolvePod(root, ref)
  if (!r) throw error!
  if (!r.pause || !isAlive(r.pause) || !isAlive(r.supervisor))
    throw new PodError(`port-forward: ${r.name}: the pod is not running`, { step: 'port-forward', code: 'ESRCH', hint: 'pod-launch ps shows its state' })
  const pause = r.pause
  // The pod's net namespace, held open for the session; a hostNetwork pod's is the host's own.
  let netnsFd: number | undefined
  if (!r.spec.hostNetwork) {
    try {
      netnsFd = openSync(`/proc/${pause.pid}/ns/net`, 'r')
    } catch (e) {
      throw PodError.system('port-forward', e, `/proc/${pause.pid}/ns/net`)
    }
  }
  const abort = new AbortController()
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  let finish!: (why: string) => void
  const done = new Promise<string>(res => (finish = res))
  let ended = false
  const stop = (why: string) => {
    if (ended) return
    ended = true
    clearInterval(watch)
    abort.abort()
    servers.forEach(s => s.close())
    sockets.forEach(s => s.destroy())
    if (netnsFd !== undefined) closeSync(netnsFd)
    finish(why)
  }
  const watch = setInterval(() => {
    if (!isAlive(pause)) stop(`lost connection to pod ${r.name}: its sandbox is gone`)
  }, 500)

  const forward = (server: Server, remote: number) => (client: Socket) => {
    const local = (server.address() as { port: number }).port
    on.connection(local)
    sockets.add(client)
    client.on('error', () => {})
    client.on('close', () => sockets.delete(client))
    client.pause()
    connectInPod(netnsFd, '127.0.0.1', remote, 10_000, abort.signal).then(
      upstream => {
        sockets.add(upstream)
        upstream.on('close', () => sockets.delete(upstream))
        upstream.on('error', () => client.destroy())
        client.on('close', () => upstream.destroy())
        upstream.on('end', () => client.end())
        client.pipe(upstream)
        upstream.pipe(client)
        client.resume()
      },
      (e: Error) => {
        on.error(`an error occurred forwarding ${local} -> ${remote} in pod ${r.name}: ${e.message}`)
        client.destroy()
      },
    )
  }

  try {
    for (const p of pairs) {
      let local = p.local
      // kubectl's `localhost`: 127.0.0.1, and ::1 where the host has IPv6.
      const expanded = addresses.flatMap(a => (a === 'localhost' ? [{ a: '127.0.0.1' }, { a: '::1', optional: true }] : [{ a }]))
      for (const { a: address, optional } of expanded) {
        const server: Server = createServer({ pauseOnConnect: true }, client => forward(server, p.remote)(client))
        const ok = await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen(local, address, () => resolve())
        }).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (optional && (e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT')) return false
            throw PodError.system('port-forward', e, `${address.includes(':') ? `[${address}]` : address}:${local}`, {
              hint: 'choose another local port (LOCAL:REMOTE, or :REMOTE for a free one)',
            })
          },
        )
        if (!ok) continue
        servers.push(server)
        // `:REMOTE`: the port the first address got, for the others too.
        local = (server.address() as { port: number }).port
        on.listening(address, local, p.remote)
      }
    }
  } catch (e) {
    stop('failed')
    throw e
  }
  return { done, stop: () => stop('stopped') }
}
