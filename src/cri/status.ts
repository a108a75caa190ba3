// Errors as gRPC statuses, the way kubelet reads them: NotFound for an id or
// image we do not have (kubelet treats it as "already gone"), InvalidArgument
// for a request we cannot accept, Unimplemented for what we do not serve, and
// otherwise Unknown carrying our one-line `<step>: <object>: <reason>` message
// (the hint after it on a second line).
import { status as Status, type ServiceError } from '@grpc/grpc-js'
import { PodError } from '../errors.js'
import { INVALID_REQUEST } from './streaming/server.js'

const BY_CODE: Record<string, Status> = {
  NOT_FOUND: Status.NOT_FOUND,
  IMAGE_NOT_FOUND: Status.NOT_FOUND,
  MANIFEST_UNKNOWN: Status.NOT_FOUND,
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  SPEC_INVALID: Status.INVALID_ARGUMENT,
  IMAGE_NAME_INVALID: Status.INVALID_ARGUMENT,
  ALREADY_EXISTS: Status.ALREADY_EXISTS,
  FAILED_PRECONDITION: Status.FAILED_PRECONDITION,
  UNIMPLEMENTED: Status.UNIMPLEMENTED,
  DEADLINE_EXCEEDED: Status.DEADLINE_EXCEEDED,
  REGISTRY_UNAUTHORIZED: Status.UNAUTHENTICATED,
}

/** A PodError for the request field or object `object` of CRI call `step` (`cri.<method>`). */
export function criError(step: string, object: string, reason: string, code: keyof typeof BY_CODE, hint?: string): PodError {
  return new PodError(`${step}: ${object}: ${reason}`, { step, code, exitCode: code === 'INVALID_ARGUMENT' ? 2 : 1, hint })
}

/** NotFound for an unknown sandbox, container or image id. */
export const notFound = (step: string, what: string, id: string): PodError => criError(step, `${what} ${JSON.stringify(id)}`, 'not found', 'NOT_FOUND')

/** The status a failed call answers with. */
export function toServiceError(e: unknown): Partial<ServiceError> {
  if (e instanceof PodError) {
    // The streaming server's refusals of a request (kubelet's server answers them InvalidArgument too).
    const code = e.step === INVALID_REQUEST ? Status.INVALID_ARGUMENT : ((e.code ? BY_CODE[e.code] : undefined) ?? Status.UNKNOWN)
    return { code, details: e.hint ? `${e.message}\nhint: ${e.hint}` : e.message }
  }
  const message = e instanceof Error ? e.message : String(e)
  return { code: Status.UNKNOWN, details: `cri: ${message}` }
}
