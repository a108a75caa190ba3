// Seccomp: profiles (RuntimeDefault, Localhost files), the choice per
// container, and their compilation to BPF once per pod.
export { parseProfile, validateProfile, type SeccompProfile, type ProfileProblem } from './profile.js'
export { RUNTIME_DEFAULT } from './runtime-default.js'
export { resolveRules, hostFacts, SeccompCache, type CompiledFilter, type HostFacts } from './compile.js'
export {
  chooseProfile,
  describeChoice,
  loadLocalhostProfile,
  localhostPath,
  preparePodSeccomp,
  seccompWarnings,
  boundingCaps,
  LOCALHOST_PROFILE_DIR,
  type SeccompChoice,
  type SeccompOptions,
  type ContainerSeccomp,
} from './select.js'
