// image import FILE [name:tag] | image ls | image inspect NAME | image rm NAME: the local image store;
// image pull REF | image login HOST | image logout HOST: registries.
// Leaf modules, never the ../index.js barrel (see image-registry.ts).
import { inspectImage, listImages, removeImage } from '../rootfs/images/catalog.js'
import { importImages } from '../rootfs/images/import.js'
import { parseSize } from '../rootfs/images/limits.js'
import { familiarName, parseImageName } from '../rootfs/images/names.js'
import type { ImageRecord } from '../rootfs/images/store.js'
import { registryCommand, type RegistryFlags } from './image-registry.js'
import { printData, type Format } from './format.js'
import type { Io } from './output.js'
import { table } from './table.js'

export interface ImageFlags {
  json: boolean
  /** image ls -o. */
  format?: Format
  force: boolean
  maxLayerSize?: string
  maxImageSize?: string
}

/** Sizes as `docker images` prints them (decimal units). */
function humanSize(bytes: number): string {
  for (const [unit, n] of [
    ['GB', 1e9],
    ['MB', 1e6],
    ['kB', 1e3],
  ] as const)
    if (bytes >= n) return `${Number((bytes / n).toPrecision(3))}${unit}`
  return `${bytes}B`
}

/** `3 days ago`, as `docker images` prints CREATED. */
export function ago(created: string | undefined, now = Date.now()): string {
  const t = created ? Date.parse(created) : NaN
  if (Number.isNaN(t)) return '-'
  const s = Math.max(0, Math.round((now - t) / 1000))
  for (const [unit, n] of [
    ['year', 31536000],
    ['month', 2592000],
    ['week', 604800],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ] as const) {
    const k = Math.floor(s / n)
    if (k >= 1) return `${k} ${unit}${k > 1 ? 's' : ''} ago`
  }
  return `${s} seconds ago`
}

const tags = (r: ImageRecord) => r.names.filter(n => !n.includes('@'))
const shown = (r: ImageRecord) => tags(r).map(familiarName)

/** One row per name (REPOSITORY, TAG), as docker images and crictl images list them; an image without one is <none>. */
function rows(all: ImageRecord[], more: (r: ImageRecord) => string[] = () => []): string[][] {
  const out: string[][] = []
  for (const r of all) {
    const row = (repo: string, tag: string) => [repo, tag, r.id.slice(7, 19), ago(r.created), humanSize(r.size), ...more(r)]
    const names = tags(r)
    if (names.length === 0) out.push(row('<none>', '<none>'))
    for (const n of names) {
      const ref = parseImageName(n)
      out.push(row(familiarName(`${ref.registry}/${ref.repository}`), ref.tag ?? '<none>'))
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]))
}

export async function imageCommand(
  root: string,
  action: string,
  args: string[],
  flags: ImageFlags,
  io: Io,
  usage: (m: string) => Error,
  registry: RegistryFlags = {},
): Promise<number> {
  const json = flags.json
  const limits = {
    ...(flags.maxLayerSize ? { layerBytes: parseSize(flags.maxLayerSize, '--max-layer-size') } : {}),
    ...(flags.maxImageSize ? { imageBytes: parseSize(flags.maxImageSize, '--max-image-size') } : {}),
  }
  switch (action) {
    case 'pull':
    case 'login':
    case 'logout':
      return registryCommand(root, action, args, { ...registry, limits }, io, usage)
    case 'import':
    case 'load': {
      if (args.length < 1 || args.length > 2) throw usage('image import: FILE [name:tag] expected')
      const all = await importImages(args[0], { root, name: args[1], limits, onWarning: m => io.err(`warning: ${m}\n`) })
      if (json) io.out(JSON.stringify(all, null, 2) + '\n')
      else
        for (const r of all) io.out(`imported ${shown(r).join(', ') || '<no name>'} (${r.id.slice(0, 19)}): ${r.layers.length} layers, ${humanSize(r.size)}\n`)
      return 0
    }
    case 'ls':
    case 'list': {
      const all = listImages(root)
      const format = flags.format ?? (json ? 'json' : 'table')
      if (format === 'json' || format === 'yaml')
        printData(
          io,
          format,
          all.map(r => ({ ...r, repoTags: tags(r), repoDigests: r.names.filter(n => n.includes('@')) })),
        )
      else if (format === 'name')
        io.out(
          all
            .flatMap(r => (tags(r).length ? tags(r) : [r.id]))
            .map(n => `${n}\n`)
            .join(''),
        )
      else if (format === 'wide')
        io.out(
          table(
            ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'DIGEST', 'LAYERS', 'FULL ID'],
            rows(all, r => [r.names.find(n => n.includes('@'))?.split('@')[1] ?? r.manifestDigest ?? '<none>', String(r.layers.length), r.id]),
          ),
        )
      else io.out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows(all)))
      return 0
    }
    case 'inspect': {
      if (args.length === 0) throw usage('image inspect: an image name is required')
      const out = args.map(name => inspectImage(root, name))
      io.out(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n')
      return 0
    }
    case 'rm':
    case 'remove': {
      if (args.length === 0) throw usage('image rm: an image name is required')
      for (const name of args) {
        const r = await removeImage(root, name, { force: flags.force })
        const what =
          r.names
            .filter(n => !n.includes('@'))
            .map(familiarName)
            .join(', ') || r.id
        if (r.usedBy.length > 0)
          io.err(
            `warning: image rm: ${what}: still used by ${r.usedBy.join(', ')}: ${r.kept.length} layers stay until no container uses them (pod-launch gc)\n`,
          )
        io.out(`removed ${what} (${r.layers.length} layers freed)\n`)
      }
      return 0
    }
    default:
      throw usage(`image: unknown action "${action}" (import, ls, inspect, rm, pull, login, logout)`)
  }
}
