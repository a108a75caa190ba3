// Where things live under the state root, as pure functions of the pod's
// directory (`<root>/<pod uid>`): nothing here touches the filesystem.
// PodDir (pod/poddir.ts) makes and removes these; explain prints them with
// `<pod dir>` in place of the directory.
import { join } from 'node:path'

/** The state root when --root is not given: pods and the image store live below it. */
export const DEFAULT_STATE_ROOT = '/run/pod-launch'
/** Where `run --persist` keeps manifests for `boot` (manage/persist.ts); here, a leaf module, so the CLI's globals load nothing more. */
export const DEFAULT_PERSIST_ROOT = '/var/lib/pod-launch'

/** The pod record every management command reads. */
export const RECORD_FILE = 'pod.json'
/** A detached pod's `{spec, options}`, read by the engine that drives it. */
export const SPEC_FILE = 'spec.json'
/** A `pod-launch cri` sandbox's record (src/cri/persist.ts): its shim is the CRI server's, not an orphan. */
export const CRI_RECORD_FILE = 'cri.json'
/** In the state root: the lock (and pid) of the one `pod-launch cri` that serves the root (src/cri/root-lock.ts). */
export const CRI_LOCK_FILE = '.cri.lock'

export const podDir = (root: string, id: string): string => join(root, id)
export const recordFile = (podDir: string): string => join(podDir, RECORD_FILE)
export const specFile = (podDir: string): string => join(podDir, SPEC_FILE)

/** The pod's /dev/shm (a pod without hostIPC). */
export const shmDir = (podDir: string): string => join(podDir, 'shm')
/** The pod's /etc/hosts, /etc/hostname and /etc/resolv.conf. */
export const etcDir = (podDir: string): string => join(podDir, 'etc')
/** emptyDir volumes, one directory (or tmpfs) each. */
export const volumesDir = (podDir: string): string => join(podDir, 'volumes')
export const volumeDir = (podDir: string, volume: string): string => join(volumesDir(podDir), volume)
/**
 * A tmpfs of the pod's (made when it reads a Secret): what must never reach
 * a disk. The Secrets handed to a detached pod's owner, and each container's
 * sealed env and argv (values from Secrets, which plans, pod.json and
 * explain show only as a stand-in).
 */
export const secretsDir = (podDir: string): string => join(podDir, 'secrets')
export const secretObjectsFile = (podDir: string): string => join(secretsDir(podDir), 'objects.json')
export const sealedFile = (podDir: string, container: string): string => join(secretsDir(podDir), `${container}.json`)
/** The attach sockets of a detached pod. */
export const attachDir = (podDir: string): string => join(podDir, 'attach')

export const logsDir = (podDir: string): string => join(podDir, 'logs')
/** `<pod dir>/logs/<container>/<restartCount>.log`: the CRI log of one run. */
export const logFile = (podDir: string, container: string, restartCount: number): string => join(logsDir(podDir), container, `${restartCount}.log`)

export const containersDir = (podDir: string): string => join(podDir, 'containers')
export const containerDir = (podDir: string, container: string): string => join(containersDir(podDir), container)
/**
 * The empty directory every container of the pod builds its root on: each
 * mounts its root there in its own mount namespace (and pivots into it), so
 * one directory serves all of them, and a container start makes no inode for it.
 */
export const rootfsDir = (podDir: string): string => join(podDir, 'rootfs')
/** The overlay upper and work directories of a container's current run. */
export const upperDir = (podDir: string, container: string): string => join(containerDir(podDir, container), 'upper')
export const workDir = (podDir: string, container: string): string => join(containerDir(podDir, container), 'work')
/**
 * The file bound at the container's terminationMessagePath: beside the
 * container's directory, not in it, so that a container of the `host` image
 * (no overlay layers) needs no directory of its own.
 */
export const terminationLogFile = (podDir: string, container: string): string => join(containersDir(podDir), `${container}.termination-log`)
