// The CLI's side of the host engine: reach `<root>/engine.sock`, starting
// the engine when none listens (`pod-launch __engine --root R` in its own
// session, its stderr appended to `<root>/.engine/engine.log`), and ask it.
import { mkdirSync, readFileSync, renameSync, statSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PodError } from '../errors.js'
import { socketAddress } from '../pod/attach-server.js'
import { ensureRoot } from '../state/index.js'
import { spawnWithReadyFd } from '../shim/launch.js'

/** The engine's files, in `<root>/.engine/`: its socket, its lock, its log. */
export const ENGINE_DIR = '.engine'
export const ENGINE_SOCKET = `${ENGINE_DIR}/engine.sock`
export const ENGINE_LOCK = `${ENGINE_DIR}/lock`
export const ENGINE_LOG = `${ENGINE_DIR}/engine.log`

export type EngineRequest = { op: 'ping' } | { op: 'run'; id: string } | { op: 'stop'; id: string; gracePeriodSeconds?: number; force?: boolean }

export type EngineReply =
  | { ok: true; pid?: number; phase?: string; waiting?: { containers: string[]; reason: string; message?: string } }
  | { ok?: false; error: { message: string; hint?: string; step?: string; code?: string } }

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'pod-launch')
const LOG_ROTATE_BYTES = 1 << 20
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** The engine log's last line ('' when there is none). */
export function engineLogTail(root: string): string {
  try {
    return readFileSync(join(root, ENGINE_LOG), 'utf8').trimEnd().split('\n').pop()!.slice(0, 300)
  } catch {
    return ''
  }
}

function tryConnect(root: string): Promise<Socket | undefined> {
  const addr = socketAddress(root, ENGINE_SOCKET)
  return new Promise<Socket | undefined>(resolve => {
    const s = connect(addr.path)
    s.once('connect', () => resolve(s))
    s.once('error', () => resolve(undefined))
  }).finally(addr.close)
}

/** Start an engine for `root`; resolves once it (or another that won the lock) is ready. Throws `pod.engine`. */
async function startEngine(root: string): Promise<void> {
  ensureRoot(root)
  mkdirSync(join(root, ENGINE_DIR), { recursive: true, mode: 0o700 })
  const log = join(root, ENGINE_LOG)
  // One generation kept: the log never grows past twice this.
  if ((statSync(log, { throwIfNoEntry: false })?.size ?? 0) > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`)
  const text = await spawnWithReadyFd(process.execPath, [BIN, '--root', root, '__engine'], log)
  if (/^(ready \d+|busy)\n/.test(text)) return
  const tail = engineLogTail(root)
  throw new PodError(`pod.engine: ${root}: the engine did not start${tail ? ` (its last log line: ${tail})` : ''}`, {
    step: 'pod.engine',
    hint: `its log: ${join(root, ENGINE_LOG)}`,
  })
}

/** A connection to the root's engine, started on demand (it adopts every live pod first). */
export async function connectEngine(root: string): Promise<Socket> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const s = await tryConnect(root)
    if (s) return s
    // None listens: start one. "busy" (another is starting, or one is exiting): retry shortly.
    await startEngine(root)
    const again = await tryConnect(root)
    if (again) return again
    await sleep(100)
  }
  throw new PodError(`pod.engine: ${root}: no engine could be reached`, { step: 'pod.engine', hint: `its log: ${join(root, ENGINE_LOG)}` })
}

/** The engine died before it answered (its log's last line says why). */
export class EngineGone extends PodError {}

/** One request, one reply. Throws EngineGone when the engine died first, the reply's PodError otherwise. */
export async function engineRequest(root: string, req: EngineRequest): Promise<EngineReply & { ok: true }> {
  const socket = await connectEngine(root)
  const text = await new Promise<string>(resolve => {
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      buf += d
      if (buf.includes('\n')) socket.end()
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve(buf))
    socket.write(JSON.stringify(req) + '\n')
  })
  const line = text.slice(0, text.indexOf('\n'))
  if (!line) {
    const tail = engineLogTail(root)
    throw new EngineGone(`pod.engine: the engine exited without a word${tail ? ` (its last log line: ${tail})` : ''}`, { step: 'pod.engine' })
  }
  const reply = JSON.parse(line) as EngineReply
  if ('error' in reply && reply.error) {
    throw new PodError(reply.error.message, { step: reply.error.step ?? 'pod.engine', hint: reply.error.hint, code: reply.error.code })
  }
  return reply as EngineReply & { ok: true }
}
