// The registry client (DESIGN.md section 14): pull images from OCI
// distribution registries into the local store, with auth, platforms,
// mirrors and progress events.
export { pullImage, checkLogin, PULL_PARALLEL, type PullEvent, type PullOptions, type LayerState } from './pull.js'
export { pullPodImages, planPodPulls, pullPodImage, isRegistryImage, type PodImage, type PodPullOptions, type PlannedPull } from './for-pod.js'
export { defaultPullPolicy, shouldPull, type PullPolicy } from './policy.js'
export { parsePlatform, hostPlatform, formatPlatform, type Platform } from './platform.js'
export { findCredentials, saveCredentials, removeCredentials, loginFile, authFiles, type Credentials } from './credentials.js'
export { RegistryClient } from './client.js'
export { readRegistriesConfig, DEFAULT_REGISTRIES_FILE } from './hosts.js'
