import { Injectable } from '@nestjs/common';
import { Observable } from 'rxjs';
import { ConflictError, FailedPreconditionError, NotFoundError } from '@berth/domain';
import { registryAuthPlaintext } from '../custom-images/custom-images.service';
import type { RegistryAuthInput } from '../custom-images/dto/custom-image.dto';
import { slotResources, type Addons } from '../slot-model';
import { DeploymentBus, type BusMessage } from './deployment-bus';
import { DeploymentRunner } from './deployment-runner';
import { isFinished, type DeploymentEventView, type DeploymentKind, type DeploymentView, type DesiredState } from './deployment.types';
import { DeploymentsRepository, type DeploymentRecord, type SlotRuntime } from './deployments.repository';
import { SlotKeys } from './slot-keys';

export interface SwitchInput {
  agent_type_id: string;
  llm_provider_id: string;
  llm_base_url?: string | null;
  /** A new key; omitted keeps the slot's key (same provider only). */
  llm_api_key?: string | null;
  telegram_bot_token?: string | null;
  config: Record<string, unknown>;
  /** The custom agent's registry credentials; null or omitted: none (a public image, or another agent). */
  registry_auth?: RegistryAuthInput | null;
}

export function deploymentView(d: DeploymentRecord): DeploymentView {
  return {
    id: d.id,
    slot_id: d.slot_id,
    kind: d.kind,
    status: d.status,
    node_id: d.node_id,
    error: d.error,
    image_digest: d.image_digest,
    created_at: d.created_at.toISOString(),
    finished_at: d.finished_at ? d.finished_at.toISOString() : null,
  };
}

/** What the slot asks for now: its desired agent and provider, its config and its limits. */
export function desiredOf(slot: SlotRuntime): DesiredState {
  return {
    agent_type_id: slot.desired_agent_type_id,
    llm_provider_id: slot.desired_llm_provider_id,
    llm_base_url: slot.llm_base_url,
    config: slot.config,
    memory_mb: slot.memory_mb,
    cpu_millis: slot.cpu_millis,
  };
}

/**
 * Turns what customers, admins and the fleet ask of a slot into deployments and hands them to
 * the runner. One deployment at a time per slot: asking for another while one runs is a 409.
 */
@Injectable()
export class DeploymentsService {
  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly runner: DeploymentRunner,
    private readonly bus: DeploymentBus,
    private readonly keys: SlotKeys,
  ) {}

  private async liveSlot(customerId: string, slotId: string): Promise<SlotRuntime> {
    const slot = await this.repo.getSlot(slotId);
    if (!slot || slot.customer_id !== customerId) throw new NotFoundError('slot not found');
    if (slot.state === 'terminated' || slot.state === 'terminating') throw new FailedPreconditionError('the slot is terminated');
    return slot;
  }

  private async start(slot: SlotRuntime, kind: DeploymentKind, desired: DesiredState): Promise<DeploymentRecord> {
    const active = await this.repo.activeForSlot(slot.id);
    if (active) throw new ConflictError(`deployment ${active.id} (${active.kind}) is still in progress for this slot`);
    const d = await this.repo.create(slot.id, kind, desired);
    void this.runner.submit(d);
    return d;
  }

  /** The first deployment of a new slot (after signup). */
  async deployNew(slotId: string): Promise<DeploymentRecord> {
    const slot = await this.repo.getSlot(slotId);
    if (!slot) throw new NotFoundError('slot not found');
    return this.start(slot, 'deploy', desiredOf(slot));
  }

  /** Another agent and/or provider in the slot; validated by the caller. Rolls back on failure. */
  async switchAgent(customerId: string, slotId: string, input: SwitchInput): Promise<DeploymentRecord> {
    const slot = await this.liveSlot(customerId, slotId);
    const active = await this.repo.activeForSlot(slot.id);
    if (active) throw new ConflictError(`deployment ${active.id} (${active.kind}) is still in progress for this slot`);
    const running = slot.current_agent_type_id !== null && (slot.state === 'running' || slot.state === 'unhealthy' || slot.state === 'stopped');
    await this.keys.beginSwitch(slot, input.llm_api_key ?? null, input.telegram_bot_token ?? null, input.registry_auth ? registryAuthPlaintext(input.registry_auth) : null);
    const desired: DesiredState = {
      agent_type_id: input.agent_type_id,
      llm_provider_id: input.llm_provider_id,
      llm_base_url: input.llm_base_url ?? null,
      config: input.config,
      memory_mb: slot.memory_mb,
      cpu_millis: slot.cpu_millis,
      ...(running
        ? {
            previous: {
              agent_type_id: slot.current_agent_type_id!,
              llm_provider_id: slot.desired_llm_provider_id,
              llm_base_url: slot.llm_base_url,
              config: slot.config,
            },
          }
        : {}),
    };
    return this.start(slot, running ? 'switch' : 'deploy', desired);
  }

  async power(customerId: string, slotId: string, action: 'stop' | 'start' | 'restart'): Promise<DeploymentRecord> {
    const slot = await this.liveSlot(customerId, slotId);
    return this.start(slot, action, desiredOf(slot));
  }

  async terminate(customerId: string, slotId: string): Promise<DeploymentRecord> {
    const slot = await this.liveSlot(customerId, slotId);
    const active = await this.repo.activeForSlot(slot.id);
    // Terminate wins over a deployment that waits for room: nothing runs yet.
    if (active && active.status === 'waiting_capacity') await this.runner.supersede(active, 'superseded by terminate');
    else if (active) throw new ConflictError(`deployment ${active.id} (${active.kind}) is still in progress for this slot`);
    const d = await this.repo.create(slot.id, 'terminate', desiredOf(slot));
    void this.runner.submit(d);
    return d;
  }

  /** Add-ons change the running container's limits (or move it when its node has no room). */
  async setAddons(customerId: string, slotId: string, addons: Addons): Promise<DeploymentRecord> {
    const slot = await this.liveSlot(customerId, slotId);
    const r = slotResources(addons);
    // The flags are written with the limits, by the resize (or its move) once the container has them:
    // a refused request changes nothing, and a failed one bills nothing it did not give.
    return this.start(slot, 'resize', { ...desiredOf(slot), memory_mb: r.memory_mb, cpu_millis: r.cpu_millis, addons });
  }

  /** From the fleet: the slot's node is down (reschedule) or draining (move). */
  async relocate(slotId: string, fromNodeId: string, kind: 'reschedule' | 'move'): Promise<DeploymentRecord | null> {
    const slot = await this.repo.getSlot(slotId);
    if (!slot || slot.node_id !== fromNodeId) return null;
    const active = await this.repo.activeForSlot(slot.id);
    if (active) return null; // it is being changed already; the fleet's next event catches up
    const d = await this.repo.create(slot.id, kind, { ...desiredOf(slot), exclude_nodes: [fromNodeId], from_node_id: fromNodeId });
    void this.runner.submit(d);
    return d;
  }

  async get(customerId: string, deploymentId: string): Promise<DeploymentView & { events: DeploymentEventView[] }> {
    const d = await this.repo.getForCustomer(customerId, deploymentId);
    if (!d) throw new NotFoundError('deployment not found');
    return { ...deploymentView(d), events: await this.repo.events(d.id) };
  }

  /** Stored events, then live ones until the deployment finishes. */
  async follow(customerId: string, deploymentId: string): Promise<Observable<DeploymentEventView>> {
    const d = await this.repo.getForCustomer(customerId, deploymentId);
    if (!d) throw new NotFoundError('deployment not found');
    return new Observable<DeploymentEventView>((sub) => {
      // Listen before reading the stored events so none falls in between; seq drops duplicates.
      let lastSeq = 0;
      let replaying = true;
      const buffered: BusMessage[] = [];
      // The last event of a deployment is named after its final status (the runner's finish()),
      // so the stream ends on that event, whichever of the database or the bus brings it.
      const emit = (event: DeploymentEventView) => {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
        sub.next(event);
        if (isFinished(event.type)) sub.complete();
      };
      const live = this.bus.of(d.id).subscribe((m) => (replaying ? buffered.push(m) : emit(m.event)));
      void (async () => {
        for (const e of await this.repo.events(d.id)) emit(e);
        replaying = false;
        for (const m of buffered) emit(m.event);
      })().catch((e: unknown) => sub.error(e));
      return () => live.unsubscribe();
    });
  }
}
