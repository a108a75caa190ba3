export type { ContainerSpec, EnvVar, ParseResult, PodSpec, SpecProblem } from './types.js'
export { expand } from './expand.js'
export { validatePod, DEFAULT_PATH } from './validate.js'
export { parseManifest, parseManifestText, readManifest } from './parse.js'
