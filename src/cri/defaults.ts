// Constants the CLI needs without loading gRPC.

/** Where `pod-launch cri` listens unless told (crictl.yaml and kubelet's containerRuntimeEndpoint name it). */
export const DEFAULT_CRI_LISTEN = 'unix:///run/pod-launch/cri.sock'
