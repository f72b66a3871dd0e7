import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ConflictError, InvalidArgumentError, NotFoundError, RateLimitedError, UnauthenticatedError, type FieldErrors } from '@berth/domain';
import { AuditRepository } from '../audit/audit.repository';
import { AuthRepository } from '../auth/auth.repository';
import { RateLimiter } from '../auth/rate-limiter';
import { newToken } from '../auth/tokens';
import { CONFIG, type CoordinatorConfig } from '../config/config.schema';
import { DeploymentsService, deploymentView } from '../deployments/deployments.service';
import { registryAuthPlaintext } from '../custom-images/custom-images.service';
import { SecretsService, secretAad, secretHint, type SecretKind } from '../secrets/secrets.service';
import { slotResources } from '../slot-model';
import { SelectionValidator } from '../slots/selection';
import { SlotsService } from '../slots/slots.service';
import { slotView } from '../slots/slots.view';
import { AccountsRepository, type CustomerRecord } from './accounts.repository';
import type { LoginDto, SignupDto } from './dto/signup.dto';
import { hashPassword, passwordProblems, verifyPassword } from './passwords';

const customerView = (c: CustomerRecord) => ({ ...c, custom_config: c.custom_config ? (JSON.parse(c.custom_config) as unknown) : null });

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly auth: AuthRepository,
    private readonly selection: SelectionValidator,
    private readonly deployments: DeploymentsService,
    private readonly secrets: SecretsService,
    private readonly slots: SlotsService,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditRepository,
    @Inject(CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  private tokenExpiry(): Date {
    return new Date(Date.now() + this.config.BERTH_TOKEN_TTL_DAYS * 86_400_000);
  }

  /** Checks everything, then writes customer + slot + secrets + token in one transaction. */
  async signup(dto: SignupDto, ip: string) {
    const windowMs = this.config.BERTH_SIGNUP_RATE_WINDOW_SECONDS * 1000;
    if (!this.limiter.hit(`signup:ip:${ip}`, this.config.BERTH_SIGNUP_RATE_LIMIT, windowMs)) throw new RateLimitedError('too many signups from this address, try again later');
    if (!this.limiter.hit(`signup:email:${dto.email}`, 5, windowMs)) throw new RateLimitedError('too many signups for this email, try again later');

    const fields: FieldErrors = {};
    const add = (k: string, m: string) => (fields[k] ??= []).push(m);
    for (const p of passwordProblems(dto.password, dto.email)) add('password', p);

    const checked = await this.selection.check(dto, fields);
    if (Object.keys(fields).length || !checked) throw new InvalidArgumentError('invalid signup', fields);
    const { agent, provider } = checked;

    // Not a validation failure: answered 409 (the transaction catches a race as well).
    if (await this.accounts.emailExists(dto.email)) {
      throw new ConflictError('email already registered', { email: ['is already registered'] });
    }

    const customerId = randomUUID();
    const slotId = randomUUID();
    const secrets: { kind: SecretKind; plaintext: string }[] = [{ kind: 'llm_key', plaintext: dto.llm_api_key }];
    if (dto.telegram_bot_token) secrets.push({ kind: 'telegram_token', plaintext: dto.telegram_bot_token });
    if (agent.manifest.env_vars?.some((v) => v.endsWith('GATEWAY_TOKEN'))) secrets.push({ kind: 'gateway_token', plaintext: SecretsService.newGatewayToken() });
    // A custom image's registry credentials: sealed with the slot's other secrets, never shown again.
    const registryAuth = checked.customImage?.registryAuth;
    if (registryAuth) secrets.push({ kind: 'registry_auth', plaintext: registryAuthPlaintext(registryAuth) });
    const sealed = secrets.map((s) => ({ kind: s.kind, sealed: this.secrets.seal(s.plaintext, secretAad(slotId, s.kind), secretHint(s.kind, s.plaintext)) }));
    const token = newToken();
    const res = slotResources(dto.addons);
    const { customer, slot } = await this.accounts.createAccount({
      customerId,
      slotId,
      email: dto.email,
      passwordHash: await hashPassword(dto.password),
      agentTypeId: agent.id,
      llmProviderId: provider.id,
      llmBaseUrl: dto.llm_base_url ?? null,
      config: checked.config,
      addons: dto.addons,
      memoryMb: res.memory_mb,
      cpuMillis: res.cpu_millis,
      secrets: sealed,
      tokenHash: token.hash,
      tokenExpiresAt: this.tokenExpiry(),
    });
    await this.audit.record({ actor: `customer:${customerId}`, action: 'signup', target_type: 'slot', target_id: slotId, ip, data: { agent_type_id: agent.id, llm_provider_id: provider.id, addons: dto.addons } });
    // The slot is written; its first deployment runs in the background and is followed at
    // GET /api/deployments/:id/events.
    const deployment = await this.deployments.deployNew(slotId);
    const hints = Object.fromEntries(sealed.map((s) => [s.kind, s.sealed.key_hint]));
    return { customer: customerView(customer), slot: slotView(slot, hints), deployment: deploymentView(deployment), token: token.token };
  }

  async login(dto: LoginDto, ip: string) {
    const c = this.config;
    if (!this.limiter.hit(`login:ip:${ip}`, c.BERTH_LOGIN_RATE_LIMIT, c.BERTH_LOGIN_RATE_WINDOW_SECONDS * 1000)) throw new RateLimitedError('too many login attempts from this address, try again later');
    const accountKey = `login-fail:${dto.email}`;
    if (this.limiter.blocked(accountKey, c.BERTH_LOGIN_FAILURES_PER_ACCOUNT)) throw new RateLimitedError('too many failed logins for this account, try again later');
    const cred = await this.accounts.findCredentials(dto.email);
    if (!(await verifyPassword(cred?.password_hash ?? null, dto.password)) || !cred) {
      this.limiter.hit(accountKey, c.BERTH_LOGIN_FAILURES_PER_ACCOUNT, c.BERTH_LOGIN_FAILURE_WINDOW_SECONDS * 1000);
      if (cred) await this.audit.record({ actor: `customer:${cred.id}`, action: 'login_failed', ip });
      throw new UnauthenticatedError('wrong email or password');
    }
    this.limiter.reset(accountKey);
    const token = newToken();
    await this.auth.createToken(cred.id, token.hash, this.tokenExpiry());
    await this.audit.record({ actor: `customer:${cred.id}`, action: 'login', ip });
    return { token: token.token, customer_id: cred.id };
  }

  async logout(customerId: string, tokenHash: string): Promise<void> {
    await this.auth.revokeToken(customerId, tokenHash);
  }

  async me(customerId: string) {
    const customer = await this.accounts.findCustomer(customerId);
    if (!customer) throw new NotFoundError('customer not found');
    return { customer: customerView(customer), slots: await this.slots.listForCustomer(customerId) };
  }
}
