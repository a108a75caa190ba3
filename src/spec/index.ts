export type * from './types.js'
export type { PodResources } from './resources.js'
export { expand } from './expand.js'
export { validatePod, DEFAULT_PATH, type ValidateOptions } from './validate.js'
export { parseManifest, parseManifestText, readManifest, parseManifestSetText, readManifestSet, readObjectFiles } from './parse.js'
export { describeOrigin, notRunLine, originLabel, type DocumentOrigin, type ManifestSet, type ManifestSetOptions, type PodDocument } from './documents.js'
export {
  decodeBase64,
  findObject,
  noObjects,
  objectFiles,
  objectStrings,
  type ConfigMapObject,
  type ConfigObject,
  type PodObjects,
  type SecretObject,
} from './objects.js'
export {
  configProblems,
  objectRefs,
  readsSecrets,
  referencedObjects,
  secretEnvContainers,
  volumeObjectSources,
  type ConfigProblem,
  type ObjectRef,
} from './config-refs.js'
export { generateName, podTemplateHash, WORKLOADS } from './workloads.js'
export { formatBytes, parseQuantity, quantityMilli, quantityValue, type Quantity } from './quantity.js'
export { isSidecar } from './container.js'
export { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityMasks, type SeccompProfileRef } from './security.js'
export { resolveEnv, resolveContainerEnv, containerArgv, fieldValue, type ResolvedEnv, type RuntimeFacts } from './env.js'
export { formatMap, goQuote, resourceValue, ENV_FIELD_PATHS, VOLUME_FIELD_PATHS, type NodeAllocatable } from './downward.js'
export { closestName, editDistance } from './suggest.js'
export { DEFAULT_STOP_SIGNAL, LINUX_STOP_SIGNALS, parseStopSignal, signalNumber } from './signals.js'
