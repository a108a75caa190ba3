// The validated, defaulted pod: what the engine runs. Pure data, frozen.
import type { Resources } from './resources.js'
import type { PodSecurity, SecuritySettings } from './security.js'
export type { PodSecurity, SecuritySettings, Sysctl } from './security.js'
export type { ResourceList, Resources } from './resources.js'

/** An env var as written: a literal value, a downward-API field reference, or a key of a ConfigMap or Secret. */
export interface EnvVar {
  name: string
  /** Literal value ($(VAR) not yet expanded). */
  value?: string
  /** valueFrom.fieldRef.fieldPath, e.g. `metadata.name`, `status.podIP`, `metadata.labels['app']`. */
  fieldRef?: string
  /** valueFrom.resourceFieldRef: a container's limit or request in `divisor` units. */
  resourceFieldRef?: ResourceFieldRef
  /** valueFrom.configMapKeyRef: one key of a ConfigMap of the pod's namespace. */
  configMapKeyRef?: KeySelector
  /** valueFrom.secretKeyRef: one key of a Secret of the pod's namespace. */
  secretKeyRef?: KeySelector
}

/** core/v1 ConfigMapKeySelector / SecretKeySelector. */
export interface KeySelector {
  name: string
  key: string
  /** A missing object or key is skipped instead of failing the container (CreateContainerConfigError). */
  optional: boolean
}

/** core/v1 EnvFromSource: every key of a ConfigMap or Secret as a variable, `prefix` prepended. */
export interface EnvFromSource {
  prefix: string
  configMapRef?: { name: string; optional: boolean }
  secretRef?: { name: string; optional: boolean }
}

/** core/v1 KeyToPath: one key of a ConfigMap or Secret as the file `path` of a volume. */
export interface KeyToPath {
  key: string
  path: string
  /** Unset: the volume's defaultMode. */
  mode?: number
}

/** A configMap or secret volume (or one source of a projected volume), validated. */
export interface ObjectVolumeSource {
  /** configMap.name, secret.secretName. */
  name: string
  /** Unset: every key, each as a file of its name. */
  items?: KeyToPath[]
  optional: boolean
}

/** One source of a projected volume. */
export type ProjectedSource =
  ({ kind: 'configMap' } & ObjectVolumeSource) | ({ kind: 'secret' } & ObjectVolumeSource) | { kind: 'downwardAPI'; items: DownwardAPIItem[] }

/** A downward-API reference to a container's resources (core/v1 ResourceFieldSelector). */
export interface ResourceFieldRef {
  /** Unset in env: the container itself. */
  containerName?: string
  /** `limits.cpu`, `requests.memory`, `limits.ephemeral-storage`, `limits.hugepages-2Mi`, ... */
  resource: string
  /** A quantity as written (default `1`). */
  divisor: string
}

/** One file of a downwardAPI volume. */
export interface DownwardAPIItem {
  path: string
  fieldRef?: string
  resourceFieldRef?: ResourceFieldRef
  /** File mode; unset: the volume's defaultMode. */
  mode?: number
}

/** spec.hostAliases[]: extra /etc/hosts lines. */
export interface HostAlias {
  ip: string
  hostnames: string[]
}

export type DNSPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None'

/** spec.dnsConfig, as written (options keep their order). */
export interface PodDNSConfig {
  nameservers: string[]
  searches: string[]
  options: { name: string; value?: string }[]
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
  /** CRI Mount.propagation (rslave, rshared); unset: private, the only mode a manifest gets here. */
  propagation?: 'HostToContainer' | 'Bidirectional'
}

export interface Volume {
  name: string
  /**
   * The source kind (`hostPath`, `emptyDir`, `downwardAPI`, `configMap`,
   * `secret`, `projected`) and its fields: as written for hostPath and
   * emptyDir; validated for the others (downwardAPI: `{ items:
   * DownwardAPIItem[], defaultMode }`; configMap and secret:
   * ObjectVolumeSource & `{ defaultMode }`; projected: `{ sources:
   * ProjectedSource[], defaultMode }`).
   */
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
  /** As written; unset: Kubernetes' default (Always for :latest or no tag, else IfNotPresent). */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'
  /** As written; `argv` of the running container comes from containerArgv(). */
  command?: string[]
  args?: string[]
  env: EnvVar[]
  /** envFrom, in order (before env: a variable of env wins). Unset: none. */
  envFrom?: EnvFromSource[]
  /** Unset: the image's WorkingDir, else `/`. */
  workingDir?: string
  ports: ContainerPort[]
  resources: Resources
  volumeMounts: VolumeMount[]
  /** stopSignal (1.33+): what stop sends first, over the image's StopSignal (spec/signals.ts names). */
  lifecycle: { postStart?: ExecHandler; preStop?: ExecHandler; stopSignal?: string }
  securityContext: SecuritySettings
  terminationMessagePath: string
  terminationMessagePolicy: 'File' | 'FallbackToLogsOnError'
  /**
   * Init containers only: `Always` makes a sidecar (Kubernetes 1.29+), which
   * starts in order with the init containers, runs beside the containers and
   * is restarted whenever it exits, whatever the pod's restartPolicy.
   */
  restartPolicy?: 'Always'
  startupProbe?: Probe
  livenessProbe?: Probe
  readinessProbe?: Probe
  /** An open pipe as stdin (else /dev/null), fed by attach sessions. */
  stdin: boolean
  /** Close stdin when the first attach session ends (a tty stops taking input). */
  stdinOnce: boolean
  /** A pseudo-terminal as stdin, stdout and stderr (allocated in the container's devpts). */
  tty: boolean
  /** CRI only (kubelet's device plugins): host device nodes bound into the container. */
  devices?: DeviceMapping[]
}

/** A host device node at a path of the container. */
export interface DeviceMapping {
  hostPath: string
  containerPath: string
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
  /** spec.subdomain: the pod's FQDN is `<hostname>.<subdomain>.<namespace>.svc.cluster.local`. */
  subdomain?: string
  hostAliases: HostAlias[]
  dnsPolicy: DNSPolicy
  /** Whether dnsPolicy was written in the manifest (the default ClusterFirst is not warned about). */
  dnsPolicyExplicit: boolean
  dnsConfig?: PodDNSConfig
  /** spec.serviceAccountName (or the deprecated serviceAccount); `default` when unset. */
  serviceAccountName: string
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
  /** spec.os: only linux pods run here. */
  os?: { name: 'linux' }
  /** The manifest's spec as written, unknown fields dropped: what `inspect` prints, with the API server's defaults. */
  manifestSpec?: Record<string, unknown>
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
