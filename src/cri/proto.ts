// Load proto/cri-runtime-v1.proto once, at server start, with
// @grpc/proto-loader (which @grpc/grpc-js depends on anyway, so reflection
// adds no package). Field names become camelCase; int64 fields decode as
// decimal strings (nanosecond times pass 2^53); enums as their names; unset
// scalars as their zero values and unset messages as null, as Go's getters
// see them.
import { loadSync, type Options } from '@grpc/proto-loader'
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js'
import { fileURLToPath } from 'node:url'

/** The .proto shipped with the package (package.json "files"). */
export const PROTO_FILE = fileURLToPath(new URL('../../proto/cri-runtime-v1.proto', import.meta.url))

export const LOAD_OPTIONS: Options = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true }

export interface CriServices {
  runtime: ServiceDefinition
  image: ServiceDefinition
}

let loaded: CriServices | undefined

/** The RuntimeService and ImageService definitions of runtime.v1. */
export function criServices(): CriServices {
  if (!loaded) {
    const pkg = loadPackageDefinition(loadSync(PROTO_FILE, LOAD_OPTIONS)) as unknown as {
      runtime: { v1: Record<'RuntimeService' | 'ImageService', { service: ServiceDefinition }> }
    }
    loaded = { runtime: pkg.runtime.v1.RuntimeService.service, image: pkg.runtime.v1.ImageService.service }
  }
  return loaded
}
