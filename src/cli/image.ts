// image import FILE [name:tag] | image ls | image rm NAME: the local image store.
import { familiarName, importImage, listImages, removeImage, type ImageRecord } from '../index.js'
import type { Io } from './output.js'
import { table } from './table.js'

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

const shown = (r: ImageRecord) => r.names.filter(n => !n.includes('@')).map(familiarName)

export async function imageCommand(root: string, action: string, args: string[], json: boolean, io: Io, usage: (m: string) => Error): Promise<number> {
  switch (action) {
    case 'import': {
      if (args.length < 1 || args.length > 2) throw usage('image import: FILE [name:tag] expected')
      const r = await importImage(args[0], { root, name: args[1], onWarning: m => io.err(`warning: ${m}\n`) })
      if (json) io.out(JSON.stringify(r, null, 2) + '\n')
      else io.out(`imported ${shown(r).join(', ') || '<no name>'} (${r.id.slice(0, 19)}): ${r.layers.length} layers, ${mb(r.size)}\n`)
      return 0
    }
    case 'ls':
    case 'list': {
      const all = listImages(root)
      if (json) io.out(JSON.stringify(all, null, 2) + '\n')
      else io.out(table(['IMAGE', 'ID', 'LAYERS', 'SIZE', 'CREATED'], all.map(r => [shown(r).join(', ') || '<none>', r.id.slice(7, 19), String(r.layers.length), mb(r.size), r.created ?? '-'])))
      return 0
    }
    case 'rm':
    case 'remove': {
      if (args.length === 0) throw usage('image rm: an image name is required')
      for (const name of args) {
        const r = await removeImage(root, name)
        io.out(`removed ${r.names.filter(n => !n.includes('@')).map(familiarName).join(', ') || r.id} (${r.layers.length} layers freed)\n`)
      }
      return 0
    }
    default:
      throw usage(`image: unknown action "${action}" (import, ls, rm)`)
  }
}
