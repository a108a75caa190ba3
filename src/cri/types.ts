// The runtime.v1 messages as the server sees them (proto.ts's load options):
// camelCase fields, int64 as decimal strings, enums by name, maps as plain
// objects, an unset message as null. Requests arrive with every field set
// (defaults); responses may leave fields out (zero values on the wire).

export type Int64 = string | number
export type Labels = Record<string, string>

export interface Int64Value {
  value: Int64
}
export interface UInt64Value {
  value: Int64
}

export interface ImageSpec {
  image: string
  annotations: Labels
  userSpecifiedImage: string
  runtimeHandler: string
  imageRef: string
}

export interface Image {
  id: string
  repoTags: string[]
  repoDigests: string[]
  size: Int64
  uid?: Int64Value | null
  username: string
  spec?: Partial<ImageSpec> | null
  pinned: boolean
}

export interface AuthConfig {
  username: string
  password: string
  auth: string
  serverAddress: string
  identityToken: string
  registryToken: string
}

export interface FilesystemUsage {
  timestamp: Int64
  fsId: { mountpoint: string }
  usedBytes: UInt64Value
  inodesUsed: UInt64Value
}

export interface RuntimeCondition {
  type: string
  status: boolean
  reason: string
  message: string
}

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET'

export interface NamespaceOption {
  network: NamespaceMode
  pid: NamespaceMode
  ipc: NamespaceMode
  targetId: string
  usernsOptions: { mode: NamespaceMode; uids: IdMapping[]; gids: IdMapping[] } | null
}

export interface IdMapping {
  hostId: number
  containerId: number
  length: number
}

export interface SecurityProfile {
  profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'
  localhostRef: string
}

export interface LinuxContainerResources {
  cpuPeriod: Int64
  cpuQuota: Int64
  cpuShares: Int64
  memoryLimitInBytes: Int64
  oomScoreAdj: Int64
  cpusetCpus: string
  cpusetMems: string
  hugepageLimits: { pageSize: string; limit: Int64 }[]
  unified: Labels
  memorySwapLimitInBytes: Int64
}

export interface PodSandboxMetadata {
  name: string
  uid: string
  namespace: string
  attempt: number
}

export interface PortMapping {
  protocol: 'TCP' | 'UDP' | 'SCTP'
  containerPort: number
  hostPort: number
  hostIp: string
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions: NamespaceOption | null
  selinuxOptions: unknown
  runAsUser: Int64Value | null
  runAsGroup: Int64Value | null
  readonlyRootfs: boolean
  supplementalGroups: Int64[]
  supplementalGroupsPolicy: 'Merge' | 'Strict'
  privileged: boolean
  seccomp: SecurityProfile | null
  apparmor: SecurityProfile | null
  seccompProfilePath: string
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata | null
  hostname: string
  logDirectory: string
  dnsConfig: { servers: string[]; searches: string[]; options: string[] } | null
  portMappings: PortMapping[]
  labels: Labels
  annotations: Labels
  linux: {
    cgroupParent: string
    securityContext: LinuxSandboxSecurityContext | null
    sysctls: Labels
    overhead: LinuxContainerResources | null
    resources: LinuxContainerResources | null
  } | null
}

export interface Mount {
  containerPath: string
  hostPath: string
  readonly: boolean
  selinuxRelabel: boolean
  propagation: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL'
  uidMappings: IdMapping[]
  gidMappings: IdMapping[]
  recursiveReadOnly: boolean
  image: ImageSpec | null
  imageSubPath: string
  mountOptions: string[]
}

export interface LinuxContainerSecurityContext {
  capabilities: { addCapabilities: string[]; dropCapabilities: string[]; addAmbientCapabilities: string[] } | null
  privileged: boolean
  namespaceOptions: NamespaceOption | null
  selinuxOptions: unknown
  runAsUser: Int64Value | null
  runAsGroup: Int64Value | null
  runAsUsername: string
  readonlyRootfs: boolean
  supplementalGroups: Int64[]
  supplementalGroupsPolicy: 'Merge' | 'Strict'
  apparmorProfile: string
  seccompProfilePath: string
  noNewPrivs: boolean
  maskedPaths: string[]
  readonlyPaths: string[]
  seccomp: SecurityProfile | null
  apparmor: SecurityProfile | null
}

export interface ContainerConfig {
  metadata: { name: string; attempt: number } | null
  image: ImageSpec | null
  command: string[]
  args: string[]
  workingDir: string
  envs: { key: string; value: Buffer }[]
  mounts: Mount[]
  devices: { containerPath: string; hostPath: string; permissions: string }[]
  labels: Labels
  annotations: Labels
  logPath: string
  stdin: boolean
  stdinOnce: boolean
  tty: boolean
  linux: { resources: LinuxContainerResources | null; securityContext: LinuxContainerSecurityContext | null } | null
  CDIDevices: { name: string }[]
  stopSignal: string
}
