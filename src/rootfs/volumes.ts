// Volumes: emptyDir (per pod under its directory, removed with it; medium
// Memory is a tmpfs of sizeLimit), hostPath (with Kubernetes' type checks),
// and the API data volumes of api-volumes.ts: downwardAPI and configMap on
// the pod's disk, secret and projected on a tmpfs of their own.
// Prepared once per pod in our own mount namespace; each container binds
// them at its volumeMounts (readOnly, subPath).
import { chmodSync, closeSync, existsSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { mountTmpfs, volumeDir } from '../state/index.js'
import { PodError } from '../errors.js'
import { noObjects, parseQuantity, quantityValue, type NodeAllocatable, type PodObjects, type PodSpec, type Volume, type VolumeMount } from '../spec/index.js'
import { onTmpfs, payloadBytes, volumePayload, writeAtomicVolume } from './api-volumes.js'
import { native, type NativeMount } from '../spawn/index.js'
import { bindPath } from './host-image.js'

export interface PreparedVolumes {
  /** Host path of each volume, by name. */
  sources: Map<string, string>
  /** Undo, last first: unmount tmpfs emptyDirs. */
  release(): void
}

const kindOf = (mode: number) => {
  const t = mode & 0o170000
  return t === 0o040000
    ? 'Directory'
    : t === 0o100000
      ? 'File'
      : t === 0o140000
        ? 'Socket'
        : t === 0o020000
          ? 'CharDevice'
          : t === 0o060000
            ? 'BlockDevice'
            : 'other'
}

function checkHostPath(v: Volume, i: number): string {
  const path = String(v.source.path)
  const type = String(v.source.type ?? '')
  const field = `spec.volumes[${i}].hostPath`
  const fail = (why: string, hint: string) => {
    throw new PodError(`volume.hostpath: ${path}: ${why} (${field}.type ${type || '""'})`, { step: 'volume.hostpath', code: 'EINVAL', path, hint })
  }
  const exists = existsSync(path)
  if (type === 'DirectoryOrCreate' && !exists) mkdirSync(path, { recursive: true, mode: 0o755 })
  if (type === 'FileOrCreate' && !exists) {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o755 })
    closeSync(openSync(path, 'a', 0o644))
  }
  if (type === '') {
    if (!exists) fail('does not exist', 'create it, or give the volume type DirectoryOrCreate / FileOrCreate')
    return path
  }
  if (!existsSync(path)) fail('does not exist', 'create it first, or use DirectoryOrCreate / FileOrCreate')
  const want = type.replace('OrCreate', '')
  const got = kindOf(statSync(path).mode)
  if (got !== want) fail(`is a ${got}, not a ${want}`, `point the volume at a ${want}, or fix its type`)
  return path
}

/**
 * kubelet's SetVolumeOwnership for an fsGroup: everything in the volume gets
 * that group; files group-readable (and writable unless read-only),
 * directories set-gid and group-searchable (and writable unless read-only).
 * Symlinks (the downward API's ..data) only change group.
 */
export function setVolumeOwnership(dir: string, fsGroup: number | undefined, readOnly: boolean): void {
  if (fsGroup === undefined) return
  const walk = (path: string) => {
    const st = lstatSync(path)
    lchownSync(path, -1, fsGroup)
    if (st.isSymbolicLink()) return
    const mode = st.mode & 0o7777
    if (st.isDirectory()) {
      chmodSync(path, mode | 0o2000 | (readOnly ? 0o050 : 0o070))
      for (const name of readdirSync(path)) walk(join(path, name))
    } else {
      chmodSync(path, mode | (readOnly ? 0o040 : 0o060))
    }
  }
  walk(dir)
}

/** Where each volume's source is, as prepareVolumes made it (pure: for a pod adopted by a new engine). */
export function volumeSources(spec: PodSpec, podRoot: string): Map<string, string> {
  return new Map(spec.volumes.map(v => [v.name, v.kind === 'hostPath' ? String(v.source.path) : volumeDir(podRoot, v.name)]))
}

/** Make every volume's source on the host. Throws `volume.*` naming the volume. */
export function prepareVolumes(spec: PodSpec, podRoot: string, opts: { allocatable?: NodeAllocatable; objects?: PodObjects } = {}): PreparedVolumes {
  const sources = new Map<string, string>()
  const mounted: string[] = []
  const release = () => {
    for (const dir of mounted.splice(0).reverse()) native().umount(dir, true)
  }
  try {
    spec.volumes.forEach((v, i) => {
      if (v.kind === 'emptyDir') {
        const dir = volumeDir(podRoot, v.name)
        mkdirSync(dir, { recursive: true, mode: 0o777 })
        chmodSync(dir, 0o777) // as kubelet: writable by any uid in the pod
        if (v.source.medium === 'Memory') {
          const size = v.source.sizeLimit === undefined ? undefined : parseQuantity(v.source.sizeLimit)
          mountTmpfs(dir, { mode: 0o1777, sizeBytes: size ? quantityValue(size) : undefined }, `spec.volumes[${i}] (${v.name})`)
          mounted.push(dir)
        }
        setVolumeOwnership(dir, spec.securityContext.fsGroup, false)
        sources.set(v.name, dir)
      } else if (v.kind === 'hostPath') {
        sources.set(v.name, checkHostPath(v, i))
      } else {
        const files = volumePayload(spec, v, opts.objects ?? noObjects(), opts.allocatable)
        if (!files) {
          throw new PodError(`volume.kind: spec.volumes[${i}] (${v.name}): ${v.kind} volumes are not supported`, {
            step: 'volume.kind',
            code: 'ENOTSUP',
            exitCode: 2,
            hint: 'use emptyDir, hostPath, downwardAPI, configMap, secret or projected',
          })
        }
        const dir = volumeDir(podRoot, v.name)
        if (onTmpfs(v)) {
          mountTmpfs(dir, { mode: 0o1777, sizeBytes: payloadBytes(files) }, `spec.volumes[${i}] (${v.name})`)
          mounted.push(dir)
        } else {
          // kubelet's emptyDir wrapper of a configMap volume: writable by any uid; the files inside are read-only mounted anyway.
          mkdirSync(dir, { recursive: true, mode: v.kind === 'configMap' ? 0o777 : 0o755 })
          if (v.kind === 'configMap') chmodSync(dir, 0o777)
        }
        writeAtomicVolume(dir, files)
        setVolumeOwnership(dir, spec.securityContext.fsGroup, true)
        sources.set(v.name, dir)
      }
    })
  } catch (e) {
    release()
    throw e
  }
  return { sources, release }
}

/** The bind mounts of a container's volumeMounts inside its root `root`. */
export function volumeMounts(root: string, mounts: readonly VolumeMount[], sources: Map<string, string>): NativeMount[] {
  const f = native().mountFlags
  return mounts.flatMap(vm => {
    let source = sources.get(vm.name)!
    if (vm.subPath) {
      source = join(source, vm.subPath)
      if (!existsSync(source)) mkdirSync(source, { recursive: true, mode: 0o755 }) // kubelet creates a missing subPath as a directory
    }
    return bindPath(f, source, root, vm.mountPath, vm.readOnly)
  })
}
