import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { AuthRepository } from './auth.repository';
import { RateLimiter } from './rate-limiter';

@Global()
@Module({
  providers: [AuthRepository, { provide: RateLimiter, useValue: new RateLimiter() }, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthRepository, RateLimiter],
})
export class AuthModule {}
