// The CRI endpoint (DESIGN.md section 13): runtime.v1 over gRPC on a unix socket.
export { CriServer, socketPath, type CriServerOptions, type StreamingUrls } from './server.js'
export { criServices, PROTO_FILE } from './proto.js'
export { DEFAULT_CRI_LISTEN } from './defaults.js'
