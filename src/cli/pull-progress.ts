// Pull progress as `docker pull` prints it. On a TTY: one live line per
// layer (`<digest12>: Downloading  12.3 MB / 45.6 MB  8.1 MB/s`) redrawn in
// place, then a summary (the download's time, then the unpack's after the
// last blob was on disk); otherwise one line per finished layer. --quiet
// prints nothing but the final reference.
import type { PullEvent } from '../index.js'

export interface ProgressSink {
  write: (s: string) => void
  isTTY: boolean
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
const WORDS = {
  waiting: 'Waiting',
  exists: 'Already exists',
  downloading: 'Downloading',
  downloaded: 'Download complete',
  extracting: 'Extracting',
  done: 'Pull complete',
} as const

export function pullProgress(sink: ProgressSink, now: () => number = Date.now): (e: PullEvent) => void {
  const order: string[] = []
  const rows = new Map<string, { text: string; started: number }>()
  let drawn = 0
  let lastDraw = 0
  const redraw = (force: boolean) => {
    if (!sink.isTTY) return
    const t = now()
    if (!force && t - lastDraw < 100) return
    lastDraw = t
    // Move up over the lines drawn last time, then rewrite each (ESC[2K clears a line).
    let s = drawn > 0 ? `\x1b[${drawn}A` : ''
    for (const d of order) s += `\x1b[2K${rows.get(d)!.text}\n`
    drawn = order.length
    sink.write(s)
  }
  return e => {
    if (e.type === 'resolved') {
      // A new pull (the next image, or an attempt after a failure): a block of its own below what was printed.
      order.length = 0
      rows.clear()
      drawn = 0
      sink.write(`pulling ${e.image} (${e.digest})\n`)
      for (const l of e.layers) {
        order.push(l.digest)
        rows.set(l.digest, { text: `${l.digest.slice(7, 19)}: ${WORDS[l.state]}`, started: now() })
        if (!sink.isTTY && l.state === 'exists') sink.write(`${l.digest.slice(7, 19)}: Already exists\n`)
      }
      redraw(true)
      return
    }
    if (e.type === 'layer') {
      const row = rows.get(e.digest)
      if (!row) return
      if (e.state === 'downloading' && e.bytes === 0) row.started = now()
      // A download reports every socket read (thousands a layer): its line is built only when drawn.
      else if (e.state === 'downloading' && (!sink.isTTY || now() - lastDraw < 100)) return
      const secs = Math.max((now() - row.started) / 1000, 0.001)
      const speed = e.state === 'downloading' ? `  ${mb(e.bytes / secs)}/s` : ''
      const amount = e.state === 'done' ? `  ${mb(e.size)}` : `  ${mb(e.bytes)} / ${mb(e.size)}`
      row.text = `${e.digest.slice(7, 19)}: ${WORDS[e.state]}${e.state === 'waiting' ? '' : amount}${speed}`
      if (!sink.isTTY && e.state === 'done') sink.write(`${row.text}  in ${secs.toFixed(1)} s\n`)
      redraw(e.state !== 'downloading')
      return
    }
    redraw(true)
    const dl = e.downloadMs / 1000
    const unpack = (e.elapsedMs - e.downloadMs) / 1000
    // Hundredths: bench/pull.sh takes the unpack's time from this line (its pull less the unpack is what skopeo copy does).
    const times = `downloaded ${mb(e.downloadedBytes)} in ${dl.toFixed(2)} s, unpacked in ${unpack.toFixed(2)} s`
    sink.write(`Digest: ${e.digest}\nStatus: ${times} for ${e.image} (image ${e.id.slice(7, 19)})\n`)
  }
}
