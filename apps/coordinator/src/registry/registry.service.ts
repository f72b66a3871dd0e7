import { Inject, Injectable, Logger } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { Subject, type Observable } from 'rxjs';
import { loadCatalogue, type AgentManifest, type AgentTemplateFiles, type Catalogue, type LlmProviderManifest } from '@berth/catalog';
import { ConflictError, NotFoundError } from '@berth/domain';
import { checkAgentTypeDefinition, type AgentTypeDefinition } from './agent-type-definition';
import { RegistryRepository, type AgentTypeWrite, type LlmProviderWrite } from './registry.repository';
import type { AgentTypePatch, AgentTypeRecord, LlmProviderPatch, LlmProviderRecord } from './registry.types';

export const CATALOGUE = Symbol('Catalogue');

/** An agent type as it was and as it is after an admin patch or a catalogue sync (`before` null: created). */
export interface AgentTypeChange {
  before: AgentTypeRecord | null;
  after: AgentTypeRecord;
}

export interface SyncReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

function agentRow(m: AgentManifest, files: AgentTemplateFiles | undefined, source = 'catalogue'): AgentTypeWrite {
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    language: m.language,
    base_image: m.base_image,
    internal_port: m.internal_port,
    health_endpoint: m.health_endpoint,
    min_memory: m.min_memory,
    min_cpu: m.min_cpu,
    config_template: m.config_template === null || m.config_template === undefined ? null : JSON.stringify(m.config_template),
    env_vars: JSON.stringify(m.env_vars),
    is_active: m.status === 'ready',
    version: m.version,
    status: m.status,
    manifest: m,
    // JSON keeps no undefined: the row compares equal to what a sync would write again.
    template_files: files ? (JSON.parse(JSON.stringify(files)) as AgentTemplateFiles) : null,
    source,
  };
}

function providerRow(p: LlmProviderManifest): LlmProviderWrite {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    env_key: p.env_key,
    base_url: p.base_url ?? null,
    is_active: true,
    key_pattern: p.key_pattern,
    key_hint: p.key_hint,
    requires_base_url: p.requires_base_url ?? false,
  };
}

/** What changed between the row and the catalogue, leaving out what the operator overrode. */
function diff<T extends object>(row: T, want: T, overrides: string[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(want) as (keyof T)[]) {
    if (overrides.includes(String(k))) continue;
    if (!isDeepStrictEqual(row[k], want[k])) out[k] = want[k];
  }
  return out;
}

/** The agent and LLM-provider registries: catalogue files synced into the database, operator pins kept. */
@Injectable()
export class RegistryService {
  private readonly logger = new Logger('registry');
  /**
   * The catalogue rows, read once and kept until this service changes them (sync, admin patch)
   * or SNAPSHOT_TTL_MS passes (a bound on staleness should another process write them). Every
   * marketplace read and signup check used to cost two queries: measured by bench/api.bench.ts.
   */
  private snapshot?: Promise<{ at: number; agents: AgentTypeRecord[]; providers: LlmProviderRecord[] }>;
  static readonly SNAPSHOT_TTL_MS = 10_000;
  private readonly changes = new Subject<AgentTypeChange>();
  /** Every agent type written by sync() or patchAgentType(), after the write (hot: subscribe first). */
  readonly agentTypeChanges: Observable<AgentTypeChange> = this.changes.asObservable();

  constructor(
    private readonly repo: RegistryRepository,
    @Inject(CATALOGUE) private readonly catalogue: () => Catalogue,
  ) {}

  /**
   * New rows are created; changed catalogue facts update their rows except the fields an
   * operator overrode; rows no longer in the catalogue are kept (nothing is lost).
   * is_active follows the catalogue's status only until an operator sets it.
   */
  async sync(): Promise<{ agents: SyncReport; providers: SyncReport }> {
    const cat = this.catalogue();
    const providers: SyncReport = { created: [], updated: [], unchanged: [] };
    for (const p of cat.providers) {
      const want = providerRow(p);
      const row = await this.repo.findProvider(p.id);
      if (!row) {
        await this.repo.createProvider(want);
        providers.created.push(p.id);
        continue;
      }
      const { is_active: _ignored, ...wantNoActive } = want;
      const changes = diff(row as unknown as LlmProviderWrite, wantNoActive as LlmProviderWrite, row.operator_overrides);
      if (Object.keys(changes).length) {
        await this.repo.updateProviderFromCatalogue(p.id, changes);
        providers.updated.push(p.id);
      } else providers.unchanged.push(p.id);
    }
    const agents: SyncReport = { created: [], updated: [], unchanged: [] };
    for (const m of cat.agents) {
      const want = agentRow(m, cat.templates[m.id]);
      const row = await this.repo.findAgentType(m.id);
      if (!row) {
        await this.repo.createAgentType(want);
        agents.created.push(m.id);
        await this.announce(null, m.id);
        continue;
      }
      const wanted: Partial<AgentTypeWrite> = { ...want };
      // is_active follows the catalogue only when the status changes (planned -> ready), never against the operator.
      if (row.status === want.status) delete wanted.is_active;
      const changes = diff(row as unknown as AgentTypeWrite, wanted as AgentTypeWrite, row.operator_overrides);
      if (Object.keys(changes).length) {
        await this.repo.updateAgentTypeFromCatalogue(m.id, changes);
        agents.updated.push(m.id);
        await this.announce(row, m.id);
      } else agents.unchanged.push(m.id);
    }
    this.invalidate();
    this.logger.log(
      `catalogue synced: agents +${agents.created.length} ~${agents.updated.length} =${agents.unchanged.length}; providers +${providers.created.length} ~${providers.updated.length} =${providers.unchanged.length}`,
    );
    return { agents, providers };
  }

  private rows() {
    const now = Date.now();
    const fresh = async () => ({ at: now, agents: await this.repo.listAgentTypes(), providers: await this.repo.listProviders() });
    const current = this.snapshot;
    const next = (current ?? fresh()).then((s) => (now - s.at > RegistryService.SNAPSHOT_TTL_MS ? fresh() : s));
    this.snapshot = next.catch((e: unknown) => {
      this.snapshot = undefined; // a failed read is not kept
      throw e;
    });
    return this.snapshot;
  }

  private invalidate(): void {
    this.snapshot = undefined;
  }

  async listAgentTypes(): Promise<AgentTypeRecord[]> {
    return (await this.rows()).agents;
  }

  async listProviders(): Promise<LlmProviderRecord[]> {
    return (await this.rows()).providers;
  }

  async findAgentType(id: string): Promise<AgentTypeRecord | null> {
    return (await this.rows()).agents.find((a) => a.id === id) ?? null;
  }

  async findProvider(id: string): Promise<LlmProviderRecord | null> {
    return (await this.rows()).providers.find((p) => p.id === id) ?? null;
  }

  async patchAgentType(id: string, patch: AgentTypePatch): Promise<AgentTypeRecord> {
    this.invalidate();
    // Read only when someone listens (the pre-pull): what the patch changed for the nodes.
    const before = this.changes.observed ? await this.repo.findAgentType(id) : null;
    const r = await this.repo.patchAgentType(id, patch);
    this.invalidate();
    if (!r) throw new NotFoundError(`agent type '${id}' not found`);
    if (this.changes.observed) this.emit({ before, after: r });
    return r;
  }

  /**
   * A community agent type from the admin API (source 'api'): checked like a catalogue folder
   * (agent-type-definition.ts), refused when the id exists, active when its status is ready.
   * Kept across restarts and syncs (a sync only writes the catalogue's own ids).
   */
  async createAgentType(def: AgentTypeDefinition): Promise<AgentTypeRecord> {
    const providerIds = new Set((await this.repo.listProviders()).map((p) => p.id));
    const { manifest, files } = checkAgentTypeDefinition(def, providerIds);
    this.invalidate();
    if (await this.repo.findAgentType(manifest.id)) {
      throw new ConflictError(`agent type '${manifest.id}' exists already`, { 'manifest.id': [`'${manifest.id}' is taken`] });
    }
    await this.repo.createAgentType(agentRow(manifest, files, 'api'));
    await this.announce(null, manifest.id);
    this.invalidate();
    return (await this.repo.findAgentType(manifest.id))!;
  }

  /** Tells the subscribers about a row sync() wrote. */
  private async announce(before: AgentTypeRecord | null, id: string): Promise<void> {
    if (!this.changes.observed) return;
    const after = await this.repo.findAgentType(id);
    this.invalidate(); // a subscriber reading the catalogue sees this write
    if (after) this.emit({ before, after });
  }

  private emit(change: AgentTypeChange): void {
    try {
      this.changes.next(change);
    } catch (e) {
      this.logger.error(`an agent type change subscriber threw on '${change.after.id}': ${(e as Error).message}`);
    }
  }

  async patchProvider(id: string, patch: LlmProviderPatch): Promise<LlmProviderRecord> {
    this.invalidate();
    const r = await this.repo.patchProvider(id, patch);
    this.invalidate();
    if (!r) throw new NotFoundError(`LLM provider '${id}' not found`);
    return r;
  }
}

export function catalogueFactory(templatesDir?: string, extraAgentDirs: string[] = []): () => Catalogue {
  return () => loadCatalogue({ templatesDir, extraAgentDirs });
}
