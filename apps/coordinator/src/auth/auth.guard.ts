import { Inject, Injectable, SetMetadata, createParamDecorator, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { PermissionDeniedError, UnauthenticatedError } from '@berth/domain';
import { CONFIG, type CoordinatorConfig } from '../config/config.schema';
import { AuthRepository } from './auth.repository';
import type { Principal } from './auth.types';
import { hashToken, safeEqual } from './tokens';

export const AUTH = Symbol('auth');
export type AuthRequirement = 'customer' | 'admin';
/** @Auth('customer') or @Auth('admin') on a controller or handler; no decorator = public. */
export const Auth = (who: AuthRequirement) => SetMetadata(AUTH, who);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal | undefined => ctx.switchToHttp().getRequest<Request>().principal);
export const CurrentCustomerId = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  const p = ctx.switchToHttp().getRequest<Request>().principal;
  if (p?.kind !== 'customer') throw new UnauthenticatedError();
  return p.customerId;
});

export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly repo: AuthRepository,
    @Inject(CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH, [ctx.getHandler(), ctx.getClass()]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const token = bearer(req);
    if (!token || token.length > 512) throw new UnauthenticatedError();
    const admin = this.config.BERTH_ADMIN_TOKEN;
    if (admin && safeEqual(token, admin)) {
      req.principal = { kind: 'admin' };
      if (need === 'customer') throw new PermissionDeniedError('this endpoint is for customers');
      return true;
    }
    const tokenHash = hashToken(token);
    const customerId = await this.repo.customerForToken(tokenHash, new Date());
    if (!customerId) throw new UnauthenticatedError('invalid or expired token');
    req.principal = { kind: 'customer', customerId, tokenHash };
    if (need === 'admin') throw new PermissionDeniedError('admin only');
    return true;
  }
}
