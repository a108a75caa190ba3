// What a ContainerConfig names on the host, checked at CreateContainer as
// containerd checks it: devices (a device node, or a directory of them) and
// the mounts whose propagation needs a shared mount of the host. Throws
// INVALID_ARGUMENT naming the field.
import { readdirSync, statSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { hostMountOf, realPath } from '../rootfs/propagation.js'
import type { DeviceMapping } from '../spec/index.js'
import { criError } from './status.js'
import type { ContainerConfig } from './types.js'

const step = 'cri.CreateContainer'
const isDevice = (st: Stats) => st.isCharacterDevice() || st.isBlockDevice()

/** Device nodes below a directory, recursively (containerd's HostDevices of a directory). */
function devicesBelow(dir: string, into: string): DeviceMapping[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const host = join(dir, e.name)
    const st = statSync(host, { throwIfNoEntry: false })
    if (!st) return []
    if (st.isDirectory()) return devicesBelow(host, join(into, e.name))
    return isDevice(st) ? [{ hostPath: host, containerPath: join(into, e.name) }] : []
  })
}

/** config.devices as device nodes (a directory gives every node below it); CDI devices are refused. */
export function criDevices(c: ContainerConfig): DeviceMapping[] {
  if (c.CDIDevices.length > 0) {
    throw criError(
      step,
      `config.CDI_devices[0] ${JSON.stringify(c.CDIDevices[0].name)}`,
      'CDI devices are not supported (no CDI spec directory is read)',
      'INVALID_ARGUMENT',
      'give the device nodes in config.devices instead',
    )
  }
  return c.devices.flatMap((d, i) => {
    const at = `config.devices[${i}]`
    if (!d.containerPath.startsWith('/')) throw criError(step, `${at}.container_path`, `"${d.containerPath}" must be absolute`, 'INVALID_ARGUMENT')
    if (!/^[rwm]*$/.test(d.permissions)) throw criError(step, `${at}.permissions`, `"${d.permissions}" is not a subset of "rwm"`, 'INVALID_ARGUMENT')
    // Empty is containerd's "rwm". Narrower access needs the device cgroup (a read-only bind does not stop writes to a device node).
    if (d.permissions !== '' && !(d.permissions.includes('r') && d.permissions.includes('w')))
      throw criError(
        step,
        `${at}.permissions`,
        `"${d.permissions}": only read-write access ("rw", "rwm") is given, as no device cgroup is set up to restrict it`,
        'INVALID_ARGUMENT',
        'ask for "rw" (device plugins do)',
      )
    const st = statSync(d.hostPath, { throwIfNoEntry: false })
    if (!st) throw criError(step, `${at}.host_path`, `${d.hostPath}: no such device`, 'INVALID_ARGUMENT')
    if (isDevice(st)) return [{ hostPath: d.hostPath, containerPath: d.containerPath }]
    if (st.isDirectory()) return devicesBelow(d.hostPath, d.containerPath)
    throw criError(step, `${at}.host_path`, `${d.hostPath}: not a device node or a directory of them`, 'INVALID_ARGUMENT')
  })
}

/**
 * Mounts with propagation: the source must be on a shared mount of the host
 * (rslave: shared or a slave), and not on the mount holding the pod's
 * directory (the container's root), which its plan makes private.
 */
export function checkPropagation(c: ContainerConfig, podDir: string): void {
  const podMount = hostMountOf(realPath(podDir)).mountPoint
  c.mounts.forEach((m, i) => {
    if (m.propagation !== 'PROPAGATION_BIDIRECTIONAL' && m.propagation !== 'PROPAGATION_HOST_TO_CONTAINER') return
    const src = hostMountOf(realPath(m.hostPath))
    const ok = m.propagation === 'PROPAGATION_BIDIRECTIONAL' ? src.shared : src.shared || src.slave
    const at = `config.mounts[${i}].propagation ${m.propagation}`
    if (!ok)
      throw criError(step, at, `${m.hostPath} is on mount ${src.mountPoint}, which is not shared`, 'INVALID_ARGUMENT', `mount --make-rshared ${src.mountPoint}`)
    if (src.mountPoint === podMount)
      throw criError(
        step,
        at,
        `${m.hostPath} is on mount ${src.mountPoint}, which also holds the pod's directory (made private for the container's root)`,
        'INVALID_ARGUMENT',
        `bind-mount the source onto itself (mount --rbind ${m.hostPath} ${m.hostPath} && mount --make-rshared ${m.hostPath}), ` +
          'or keep the state root on another mount',
      )
  })
}
