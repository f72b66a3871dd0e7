import { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { DomainErrorCode, isDomainError } from '@berth/domain';

/** The one place domain errors become gRPC status codes (as moby's httpstatus does for HTTP). */
const CODES: Record<DomainErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  CONFLICT: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  CAPACITY_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
};

export function toGrpcError(e: unknown): Partial<ServiceError> & { code: status; details: string } {
  if (isDomainError(e)) {
    const metadata = new Metadata();
    if (e.fields) metadata.set('berth-field-errors-bin', Buffer.from(JSON.stringify(e.fields)));
    return { code: CODES[e.code], details: e.message, message: e.message, metadata };
  }
  const msg = e instanceof Error ? e.message : String(e);
  // Docker engine unreachable mid-call.
  if (/ECONNREFUSED|ENOENT|EPIPE|socket hang up|connect/i.test(msg))
    return { code: status.UNAVAILABLE, details: `Docker engine not reachable: ${msg}`, message: msg };
  return { code: status.INTERNAL, details: msg, message: msg };
}
