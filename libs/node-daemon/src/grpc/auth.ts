import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { UnauthenticatedError } from '@berth/domain';

/** Checks `authorization: Bearer <token>` in constant time (compares SHA-256 digests). */
export function makeTokenCheck(token: string): (md: Metadata) => void {
  const want = createHash('sha256').update(token).digest();
  return (md) => {
    const header = md.get('authorization')[0];
    const m = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (!m) throw new UnauthenticatedError('missing authorization: Bearer <node token>');
    const got = createHash('sha256').update(m[1]).digest();
    if (!timingSafeEqual(want, got)) throw new UnauthenticatedError('invalid node token');
  };
}
