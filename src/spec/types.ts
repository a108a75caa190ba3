// The validated, defaulted pod: what the engine runs. Pure data, frozen.
import type { Resources } from './resources.js'
import type { PodSecurity, SecuritySettings } from './security.js'
export type { PodSecurity, SecuritySettings, Sysctl } from './security.js'
export type { ResourceList, Resources } from './resources.js'

/** An env var as written: a literal value or a downward-API field reference. */
export interface EnvVar {
  name: string
  /** Literal value ($(VAR) not yet expanded). */
  value?: string
  /** valueFrom.fieldRef.fieldPath, e.g. `metadata.name`, `status.podIP`, `metadata.labels['app']`. */
  fieldRef?: string
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol: 'TCP' | 'UDP' | 'SCTP'
  hostPort?: number
  hostIP?: string
}

export interface VolumeMount {
  name: string
  mountPath: string
  readOnly: boolean
  subPath?: string
}

export interface Volume {
  name: string
  /** The source kind (`hostPath`, `emptyDir`, ...) and its fields as written. */
  kind: string
  source: Record<string, unknown>
}

export interface ExecHandler {
  command: string[]
}

export interface ContainerSpec {
  name: string
  image: string
  /** As written; `argv` of the running container comes from containerArgv(). */
  command?: string[]
  args?: string[]
  env: EnvVar[]
  /** Unset: the image's WorkingDir, else `/`. */
  workingDir?: string
  ports: ContainerPort[]
  resources: Resources
  volumeMounts: VolumeMount[]
  lifecycle: { postStart?: ExecHandler; preStop?: ExecHandler }
  securityContext: SecuritySettings
  terminationMessagePath: string
  terminationMessagePolicy: 'File' | 'FallbackToLogsOnError'
  /**
   * Init containers only: `Always` makes a sidecar (Kubernetes 1.29+), which
   * starts in order with the init containers, runs beside the containers and
   * is restarted whenever it exits, whatever the pod's restartPolicy.
   */
  restartPolicy?: 'Always'
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never'

export interface PodSpec {
  apiVersion: 'v1'
  kind: 'Pod'
  name: string
  namespace: string
  uid: string
  labels: Record<string, string>
  annotations: Record<string, string>
  hostname: string
  shareProcessNamespace: boolean
  hostNetwork: boolean
  hostIPC: boolean
  hostPID: boolean
  restartPolicy: RestartPolicy
  terminationGracePeriodSeconds: number
  initContainers: ContainerSpec[]
  containers: ContainerSpec[]
  volumes: Volume[]
  securityContext: PodSecurity
}

export interface SpecProblem {
  /** Field path as Kubernetes prints it: `spec.containers[1].name`. */
  path: string
  message: string
}

export interface ParseResult {
  spec: PodSpec
  /** Fields present in the manifest that pod-launch does not honour yet. */
  unsupported: string[]
  /** Other warnings (e.g. extra documents in a YAML file). */
  warnings: string[]
}
