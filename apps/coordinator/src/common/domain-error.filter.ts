import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { isDomainError, type DomainErrorCode } from '@berth/domain';

/** Domain error code -> HTTP status: the one place (HOUSE_STYLE: moby's httpstatus). */
export const HTTP_STATUS: Record<DomainErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILED_PRECONDITION: 412,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  CAPACITY_EXHAUSTED: 503,
};

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/** Maps every error to `{ error, fields? }`; unknown errors are 500 with no detail (logged without request data). */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.map(err);
    if (status >= 500 && status !== 503) this.logger.error(`unhandled ${err instanceof Error ? err.name : typeof err}: ${err instanceof Error ? err.message : ''}`);
    if (status === 429) res.setHeader('Retry-After', '60');
    res.status(status).json(body);
  }

  map(err: unknown): [number, { error: string; fields?: Record<string, string[]> }] {
    if (isDomainError(err)) {
      return [HTTP_STATUS[err.code] ?? 500, err.fields ? { error: err.message, fields: err.fields } : { error: err.message }];
    }
    const bp = err as BodyParserError;
    if (bp && bp.type === 'entity.too.large') return [413, { error: 'request body too large' }];
    if (bp && bp.type === 'entity.parse.failed') return [400, { error: 'malformed JSON body' }];
    if (bp && typeof bp.type === 'string' && bp.type.startsWith('encoding.') ) return [415, { error: 'unsupported body encoding' }];
    if (bp && bp.type === 'charset.unsupported') return [415, { error: 'unsupported charset' }];
    if (err instanceof HttpException) {
      const status = err.getStatus();
      return [status, { error: status === 404 ? 'not found' : err.message }];
    }
    return [500, { error: 'internal error' }];
  }
}
