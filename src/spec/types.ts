// The validated, defaulted pod: what the engine runs. Pure data, frozen.
import type { Resources } from './resources.js'
import type { SecuritySettings } from './security.js'
export type { SecuritySettings } from './security.js'
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

export type ProbeKind = 'startup' | 'liveness' | 'readiness'

/** What a probe does; ports are resolved to numbers, `host` unset means the pod. */
export type ProbeHandler =
  | { kind: 'exec'; command: string[] }
  | { kind: 'httpGet'; path: string; port: number; host?: string; scheme: 'HTTP' | 'HTTPS'; headers: { name: string; value: string }[] }
  | { kind: 'tcpSocket'; port: number; host?: string }
  | { kind: 'grpc'; port: number; service: string }

/** A probe with the API server's defaults applied. */
export interface Probe {
  handler: ProbeHandler
  initialDelaySeconds: number
  periodSeconds: number
  timeoutSeconds: number
  successThreshold: number
  failureThreshold: number
  /** Liveness and startup only: the grace period of a kill this probe causes (else the pod's). */
  terminationGracePeriodSeconds?: number
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
  startupProbe?: Probe
  livenessProbe?: Probe
  readinessProbe?: Probe
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
  securityContext: Partial<SecuritySettings>
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
