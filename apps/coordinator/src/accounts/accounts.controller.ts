import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { Auth, CurrentCustomerId, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/auth.types';
import { ZodPipe } from '../common/validation';
import { AccountsService } from './accounts.service';
import { loginSchema, signupSchema, type LoginDto, type SignupDto } from './dto/signup.dto';

const ip = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

@ApiTags('accounts')
@Controller('api')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('signup')
  @HttpCode(201)
  @ApiBody({ schema: z.toJSONSchema(signupSchema, { io: 'input' }) as object })
  signup(@Body(new ZodPipe(signupSchema)) dto: SignupDto, @Req() req: Request) {
    return this.accounts.signup(dto, ip(req));
  }

  @Post('auth/login')
  @HttpCode(200)
  @ApiBody({ schema: z.toJSONSchema(loginSchema, { io: 'input' }) as object })
  login(@Body(new ZodPipe(loginSchema)) dto: LoginDto, @Req() req: Request) {
    return this.accounts.login(dto, ip(req));
  }

  @Post('auth/logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @Auth('customer')
  async logout(@CurrentPrincipal() p: Principal) {
    if (p.kind === 'customer') await this.accounts.logout(p.customerId, p.tokenHash);
  }

  @Get('me')
  @ApiBearerAuth()
  @Auth('customer')
  me(@CurrentCustomerId() customerId: string) {
    return this.accounts.me(customerId);
  }
}
