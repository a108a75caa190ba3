// The validated, defaulted pod: what the engine runs. Pure data, frozen.

export interface EnvVar {
  name: string
  value: string
}

export interface ContainerSpec {
  name: string
  image: string
  /** command + args after $(VAR) expansion; never empty. */
  argv: string[]
  env: EnvVar[]
  workingDir: string
}

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
  terminationGracePeriodSeconds: number
  containers: ContainerSpec[]
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
