/**
 * The one catalogue of domain errors. Services throw these; the HTTP edge maps them
 * to status codes in one place (apps/coordinator/src/common/domain-error.filter.ts)
 * and the gRPC edge maps them to status codes in one place (libs/node-daemon/src/grpc/errors.ts).
 */
export type DomainErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FAILED_PRECONDITION'
  | 'CAPACITY_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE';

/** Per-field messages, e.g. { email: ['must be a valid email address'] }. */
export type FieldErrors = Record<string, string[]>;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly fields?: FieldErrors,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(message: string, fields?: FieldErrors) {
    super('INVALID_ARGUMENT', message, fields);
  }
}
export class NotFoundError extends DomainError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string, fields?: FieldErrors) {
    super('CONFLICT', message, fields);
  }
}
export class FailedPreconditionError extends DomainError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}
export class CapacityExhaustedError extends DomainError {
  constructor(message: string) {
    super('CAPACITY_EXHAUSTED', message);
  }
}
export class UnavailableError extends DomainError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}
export class UnauthenticatedError extends DomainError {
  constructor(message = 'authentication required') {
    super('UNAUTHENTICATED', message);
  }
}
export class PermissionDeniedError extends DomainError {
  constructor(message = 'not allowed') {
    super('PERMISSION_DENIED', message);
  }
}
export class RateLimitedError extends DomainError {
  constructor(message = 'too many requests, try again later') {
    super('RATE_LIMITED', message);
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
