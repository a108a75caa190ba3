// The worker thread's side of unpack-thread.ts: unpacks the layer files the
// main thread sends (unpackLayer, extract.ts) and posts back the result, each
// warning, or the error as plain fields (a PodError does not cross threads).
import { parentPort } from 'node:worker_threads'
import { PodError } from '../../errors.js'
import { unpackLayer } from './extract.js'
import { checkFreeSpace, tooLarge } from './limits.js'
import type { UnpackJob, UnpackReply } from './unpack-thread.js'

const port = parentPort
if (!port) throw new Error('unpack-worker: not in a worker thread')

function plain(e: unknown): UnpackReply['error'] {
  if (e instanceof PodError) {
    const { message, step, code, errno, syscall, path, hint, exitCode } = e
    return { message, step, code, errno, syscall, path, hint, exitCode }
  }
  const x = e as NodeJS.ErrnoException
  return { message: x?.message ?? String(e), code: x?.code, errno: x?.errno, syscall: x?.syscall, path: x?.path }
}

async function run(job: UnpackJob): Promise<void> {
  const reply = (r: Omit<UnpackReply, 'id'>) => port!.postMessage({ id: job.id, ...r } satisfies UnpackReply)
  try {
    const { limit } = job
    const result = await unpackLayer(job.file, job.dest, {
      compression: job.compression,
      label: job.label,
      maxBytes: job.maxBytes,
      onWarning: warning => reply({ warning }),
      tooLarge: () => tooLarge(job.image, job.layerName, limit.what, limit.bytes, limit.env),
      checkSpace: () => checkFreeSpace(job.dest, job.image, job.layerName),
    })
    reply({ result })
  } catch (e) {
    reply({ error: plain(e) })
  }
}

port.on('message', (job: UnpackJob) => void run(job))
