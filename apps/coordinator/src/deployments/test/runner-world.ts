// Test support for the deployment runner's specs: a migrated database with the catalogue, the real
// repositories, renderer and key handling, and helpers for nodes and signed-up slots.
import { randomBytes, randomUUID } from 'node:crypto';
import { MiB } from '@berth/domain';
import { AccountsRepository } from '../../accounts/accounts.repository';
import { AuditRepository } from '../../audit/audit.repository';
import type { CoordinatorConfig } from '../../config/config.schema';
import { loadCustomImagesConfig } from '../../custom-images/custom-images.config';
import { CustomImagesService } from '../../custom-images/custom-images.service';
import { createTestDatabase, type TestDatabase } from '../../database/test-database';
import { ImageDigestsRepository } from '../../images/image-digests.repository';
import { ImageDigestsService } from '../../images/image-digests.service';
import { RegistryCredentialsRepository } from '../../images/registry-credentials.repository';
import { RegistryCredentialsService } from '../../images/registry-credentials.service';
import { NodesRepository } from '../../nodes/nodes.repository';
import { RegistryRepository } from '../../registry/registry.repository';
import { RegistryService, catalogueFactory } from '../../registry/registry.service';
import type { PlacementService } from '../../scheduler/placement.service';
import { SecretsRepository } from '../../secrets/secrets.repository';
import { SecretsService, secretAad } from '../../secrets/secrets.service';
import type { DeploymentBus } from '../deployment-bus';
import { DeploymentRunner } from '../deployment-runner';
import type { DeploymentsConfig } from '../deployments.config';
import { DeploymentsRepository } from '../deployments.repository';
import type { NodeGateway } from '../node-gateway';
import { SlotKeys } from '../slot-keys';
import { SlotSecretsRepository } from '../slot-secrets.repository';
import { SlotSpecBuilder } from '../slot-spec.builder';

/** Every test slot's LLM key. */
export const RUNNER_TEST_KEY = 'sk-ant-api03-firstKEYfirstKEYfirstKEY0000';
export const RUNNER_TEST_CONFIG: DeploymentsConfig = { BERTH_PLACEMENT_RETRY_MS: 60_000, BERTH_NODE_CALL_ATTEMPTS: 4, BERTH_NODE_CALL_BACKOFF_MS: 10, BERTH_DRAIN_RETRY_MS: 60_000, BERTH_DATA_RETENTION_DAYS: 30 };

export interface RunnerWorld {
  t: TestDatabase;
  registry: RegistryService;
  repo: DeploymentsRepository;
  secrets: SecretsService;
  secretsRepo: SecretsRepository;
  accounts: AccountsRepository;
  builder: SlotSpecBuilder;
  keys: SlotKeys;
  credentials: RegistryCredentialsService;
  digests: ImageDigestsService;
  customImages: CustomImagesService;
}

/** The custom-image rules of the runner specs: the default public registries and a local one. */
export const RUNNER_TEST_CUSTOM_IMAGES = { BERTH_CUSTOM_IMAGE_REGISTRIES: 'docker.io,ghcr.io,127.0.0.1:5000', BERTH_CUSTOM_IMAGE_MAX_BYTES: '512MiB' };

export async function openRunnerWorld(): Promise<RunnerWorld> {
  const t = await createTestDatabase();
  const registry = new RegistryService(new RegistryRepository(t.db), catalogueFactory());
  await registry.sync();
  const secrets = new SecretsService(randomBytes(32));
  const secretsRepo = new SecretsRepository(t.db);
  const slotSecrets = new SlotSecretsRepository(t.db);
  return {
    t,
    registry,
    repo: new DeploymentsRepository(t.db, new NodesRepository(t.db)),
    secrets,
    secretsRepo,
    accounts: new AccountsRepository(t.db),
    builder: new SlotSpecBuilder(registry, secretsRepo, secrets, slotSecrets, {} as CoordinatorConfig),
    keys: new SlotKeys(secretsRepo, slotSecrets, secrets),
    credentials: new RegistryCredentialsService(new RegistryCredentialsRepository(t.db), secrets),
    digests: new ImageDigestsService(new ImageDigestsRepository(t.db), new AuditRepository(t.db)),
    customImages: new CustomImagesService(loadCustomImagesConfig(RUNNER_TEST_CUSTOM_IMAGES), {} as CoordinatorConfig, secretsRepo, secrets),
  };
}

export function newRunner(w: RunnerWorld, nodes: NodeGateway, placement: PlacementService, bus: DeploymentBus, cfg = RUNNER_TEST_CONFIG): DeploymentRunner {
  return new DeploymentRunner(w.repo, new NodesRepository(w.t.db), w.builder, w.keys, nodes, placement, bus, cfg, w.credentials, w.digests, w.customImages);
}

/** An up node in the database and in placement's memory. */
export async function addTestNode(w: RunnerWorld, placement: PlacementService, name: string, memoryMb = 4096, cpuMillis = 2000): Promise<string> {
  const n = await w.t.db.prisma.node.create({
    data: { name, address: `${name}:7443`, status: 'up', allocatable_memory_mb: memoryMb, allocatable_cpu_millis: cpuMillis },
  });
  placement.upsertNode({
    id: n.id,
    status: 'up',
    allocatableMemoryBytes: memoryMb * MiB,
    allocatedMemoryBytes: 0,
    allocatableNanoCpus: cpuMillis * 1_000_000,
    allocatedNanoCpus: 0,
    freePorts: 1000,
  });
  return n.id;
}

/** A customer with one slot of `agent` on Anthropic, as signup leaves them (not deployed yet). */
export async function newTestSlot(w: RunnerWorld, agent = 'myrai', memoryMb = 512, config: Record<string, unknown> = {}): Promise<{ customerId: string; slotId: string }> {
  const customerId = randomUUID();
  const slotId = randomUUID();
  await w.accounts.createAccount({
    customerId,
    slotId,
    email: `${customerId}@example.com`,
    passwordHash: 'x',
    agentTypeId: agent,
    llmProviderId: 'anthropic',
    llmBaseUrl: null,
    config,
    addons: { memory: memoryMb > 512, cpu: false, priority_support: false },
    memoryMb,
    cpuMillis: 250,
    secrets: [{ kind: 'llm_key', sealed: w.secrets.seal(RUNNER_TEST_KEY, secretAad(slotId, 'llm_key')) }],
    tokenHash: randomBytes(16).toString('hex'),
    tokenExpiresAt: new Date(Date.now() + 86_400_000),
  });
  return { customerId, slotId };
}
