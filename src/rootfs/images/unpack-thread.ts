// Layer unpacks on a worker thread. Unpacking is thousands of synchronous
// file-system calls (mkdir, open, write, chown per entry); on the main thread
// they hold the event loop, so the downloads of a pull stall while a layer
// unpacks. A pull hands each verified blob file to one worker thread
// (unpack-worker.ts: the same unpackLayer) and its sockets, hashes and writes
// keep the main thread. A pull starts it for the first layer that is on disk
// while others still download (it costs ~12 MB: another V8 heap), and then
// unpacks every layer after on it.
//
//   const t = new UnpackThread()
//   const r = await t.unpack({ file, dest, ... }, onWarning)   // Unpacked, or throws the worker's PodError
//   await t.close()                                            // always: the worker stops (an unpack under way is abandoned)
import { Worker } from 'node:worker_threads'
import { PodError } from '../../errors.js'
import type { Compression, Unpacked } from './extract.js'

export interface UnpackJob {
  id: number
  /** The layer blob, already verified (size and digest). */
  file: string
  dest: string
  compression: Compression
  label: string
  maxBytes: number
  /** For messages: the image and the layer. */
  image: string
  layerName: string
  /** The limit maxBytes comes from (the IMAGE_TOO_LARGE message). */
  limit: { what: 'layer' | 'image'; bytes: number; env: string }
}

export interface UnpackReply {
  id: number
  result?: Unpacked
  warning?: string
  error?: { message: string; step?: string; code?: string; errno?: number; syscall?: string; path?: string; hint?: string; exitCode?: number }
}

/** The worker's module: the CLI bundle's sibling (scripts/bundle.mjs), or the compiled (or, in tests, TypeScript) module beside this one. */
function workerUrl(): URL {
  const here = import.meta.url
  if (here.endsWith('.cjs')) return new URL('./unpack-worker.cjs', here)
  return new URL(`./unpack-worker.${here.endsWith('.ts') ? 'ts' : 'js'}`, here)
}

function fromReply(e: NonNullable<UnpackReply['error']>): Error {
  const { message, step, ...fields } = e
  if (step) return new PodError(message, { ...fields, step })
  return Object.assign(new Error(message), fields)
}

type Pending = { resolve: (r: Unpacked) => void; reject: (e: Error) => void; onWarning?: (m: string) => void }

export class UnpackThread {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private next = 0
  private gone?: Error

  constructor() {
    this.worker = new Worker(workerUrl())
    this.worker.unref() // idle, it keeps nothing alive
    this.worker.on('message', (m: UnpackReply) => {
      const p = this.pending.get(m.id)
      if (!p) return
      if (m.warning !== undefined) return p.onWarning?.(m.warning)
      this.pending.delete(m.id)
      if (this.pending.size === 0) this.worker.unref()
      if (m.error) p.reject(fromReply(m.error))
      else p.resolve(m.result!)
    })
    this.worker.on('error', e => this.fail(e))
    this.worker.on('exit', code => this.fail(Object.assign(new Error(`the unpack thread stopped (exit code ${code})`), { name: 'AbortError' })))
  }

  private fail(e: Error): void {
    this.gone ??= e
    for (const p of this.pending.values()) p.reject(this.gone)
    this.pending.clear()
  }

  /** Unpack `job.file` into `job.dest` on the worker; rejects with what unpackLayer would throw. */
  unpack(job: Omit<UnpackJob, 'id'>, onWarning?: (m: string) => void): Promise<Unpacked> {
    if (this.gone) return Promise.reject(this.gone)
    const id = this.next++
    return new Promise<Unpacked>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onWarning })
      this.worker.ref()
      this.worker.postMessage({ ...job, id } satisfies UnpackJob)
    })
  }

  /** Stop the worker; resolves once it is gone (no file is written in the pull's directory after this). */
  async close(): Promise<void> {
    await this.worker.terminate()
  }
}
