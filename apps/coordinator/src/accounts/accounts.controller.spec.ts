import { Test } from '@nestjs/testing';
import { APP_FILTER } from '@nestjs/core';
import request from 'supertest';
import { DomainErrorFilter } from '../common/domain-error.filter';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';

/** The controller with the real validation pipe and error filter; the service is a recording fake. */
describe('AccountsController (validation)', () => {
  const calls: unknown[] = [];
  const fake = { signup: async (dto: unknown) => (calls.push(dto), { ok: true }), login: async () => ({ token: 't' }) };
  let http: ReturnType<typeof request>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const mod = await Test.createTestingModule({
      controllers: [AccountsController],
      providers: [{ provide: AccountsService, useValue: fake }, { provide: APP_FILTER, useClass: DomainErrorFilter }],
    }).compile();
    const app = mod.createNestApplication({ logger: false });
    await app.init();
    http = request(app.getHttpServer());
    close = () => app.close();
  });
  afterAll(() => close());

  it('answers 400 with a message per field and never calls the service', async () => {
    const r = await http.post('/api/signup').send({ email: 'x', extra: 1, addons: { memory: 'yes' } }).expect(400);
    expect(r.body.error).toBe('invalid request');
    expect(Object.keys(r.body.fields).sort()).toEqual(['_', 'addons.memory', 'agent_type_id', 'email', 'llm_api_key', 'llm_provider_id', 'password']);
    expect(r.body.fields.email).toEqual(['must be a valid email address']);
    expect(calls).toHaveLength(0);
  });

  it('normalises the email and fills defaults before the service sees the body', async () => {
    await http
      .post('/api/signup')
      .send({ email: ' Bob@Example.COM ', password: 'p', agent_type_id: 'a', llm_provider_id: 'b', llm_api_key: 'k' })
      .expect(201);
    expect(calls[0]).toEqual({
      email: 'bob@example.com', password: 'p', agent_type_id: 'a', llm_provider_id: 'b', llm_api_key: 'k', config: {},
      addons: { memory: false, cpu: false, priority_support: false },
    });
  });
});
