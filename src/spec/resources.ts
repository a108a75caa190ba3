// Container resources: Kubernetes quantities made exact numbers.

/** Parsed resource amounts. */
export interface ResourceList {
  cpuMilli?: number
  memoryBytes?: number
  ephemeralStorageBytes?: number
  /** `hugepages-<size>`: page size as written (`2Mi`, `1Gi`) -> bytes. */
  hugepages: Record<string, number>
}

export interface Resources {
  limits: ResourceList
  /** Defaulted from limits where unset, as Kubernetes does. */
  requests: ResourceList
}

/** The part of a pod the cgroup code needs (PodSpec satisfies it). */
export interface PodResources {
  uid: string
  name: string
  /** `restartPolicy: Always` marks a sidecar, which runs beside the containers. */
  initContainers: readonly { name: string; resources: Resources; restartPolicy?: 'Always' }[]
  containers: readonly { name: string; resources: Resources }[]
}
