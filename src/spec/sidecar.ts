// isSidecar alone, so that `ps` and the state records use it without loading
// the spec's validation (node:net, node:crypto).
/** A sidecar: an init container with restartPolicy Always (Kubernetes 1.29+). */
export const isSidecar = (c: { restartPolicy?: 'Always' }): boolean => c.restartPolicy === 'Always'
