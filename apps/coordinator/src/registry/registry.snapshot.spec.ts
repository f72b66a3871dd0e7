import type { Catalogue } from '@berth/catalog';
import type { RegistryRepository } from './registry.repository';
import { RegistryService } from './registry.service';
import type { AgentTypeRecord, LlmProviderRecord } from './registry.types';

describe('RegistryService snapshot', () => {
  function setup() {
    const agents = [{ id: 'myrai', name: 'Myrai', is_active: true } as AgentTypeRecord];
    const providers = [{ id: 'openai', name: 'OpenAI', is_active: true } as LlmProviderRecord];
    const repo = {
      listAgentTypes: jest.fn(async () => agents.map((a) => ({ ...a }))),
      listProviders: jest.fn(async () => providers.map((p) => ({ ...p }))),
      patchAgentType: jest.fn(async (id: string, patch: Partial<AgentTypeRecord>) => {
        Object.assign(agents.find((a) => a.id === id)!, patch);
        return agents.find((a) => a.id === id)!;
      }),
    };
    const service = new RegistryService(repo as unknown as RegistryRepository, () => ({ agents: [], providers: [] }) as unknown as Catalogue);
    return { repo, service };
  }

  it('answers repeated reads from one database read', async () => {
    const { repo, service } = setup();
    await Promise.all([service.listAgentTypes(), service.findAgentType('myrai'), service.findProvider('openai'), service.listProviders()]);
    await service.findAgentType('nope');
    expect(repo.listAgentTypes).toHaveBeenCalledTimes(1);
    expect(repo.listProviders).toHaveBeenCalledTimes(1);
  });

  it('an admin change is seen by the next read', async () => {
    const { repo, service } = setup();
    expect((await service.findAgentType('myrai'))!.is_active).toBe(true);
    await service.patchAgentType('myrai', { is_active: false } as never);
    expect((await service.findAgentType('myrai'))!.is_active).toBe(false);
    expect(repo.listAgentTypes).toHaveBeenCalledTimes(2);
  });

  it('reads again once the snapshot is older than its time to live', async () => {
    const { repo, service } = setup();
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    await service.listAgentTypes();
    now.mockReturnValue(1_000_000 + RegistryService.SNAPSHOT_TTL_MS + 1);
    await service.listAgentTypes();
    now.mockRestore();
    expect(repo.listAgentTypes).toHaveBeenCalledTimes(2);
  });
});
