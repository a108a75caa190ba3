// The CRI streaming server (exec, attach, port-forward over SPDY/3.1 and
// WebSockets); a runtime plugs in behind StreamingRuntime.
export { StreamingServer, INVALID_REQUEST, type StreamingServerOptions } from './server.js'
export type { AttachRequest, CommandIo, ExecRequest, PortForwardRequest, StreamingRuntime, TerminalSize } from './types.js'
export { PodStreamingRuntime, forwardFrom, podRefTargets, streamExec, type StreamTargets } from './pod-runtime.js'
