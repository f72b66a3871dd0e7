import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';
import { NodesRepository } from '../nodes/nodes.repository';
import { toSlot, type SlotRecord, type SlotState } from '../slot-model';
import type { DeploymentEventView, DeploymentKind, DeploymentStatus, DesiredState } from './deployment.types';

export interface DeploymentRecord {
  id: string;
  slot_id: string;
  kind: DeploymentKind;
  status: DeploymentStatus;
  desired: DesiredState;
  node_id: string | null;
  attempt: number;
  error: string | null;
  /** The digest the node ran (sha256:...), once it reported one. */
  image_digest: string | null;
  reserved_memory_mb: number;
  reserved_cpu_millis: number;
  created_at: Date;
  finished_at: Date | null;
}

/** The slot as the deployment flow reads it: the same record the slots API reads. */
export type SlotRuntime = SlotRecord;

export type SlotRuntimePatch = Partial<
  Pick<
    SlotRuntime,
    | 'state'
    | 'state_reason'
    | 'node_id'
    | 'memory_mb'
    | 'cpu_millis'
    | 'desired_agent_type_id'
    | 'desired_llm_provider_id'
    | 'llm_base_url'
    | 'config'
    | 'current_agent_type_id'
    | 'published_ports'
    | 'terminated_at'
  >
> & { current_agent_version?: string | null; addon_memory?: boolean; addon_cpu?: boolean; addon_priority_support?: boolean };

/** The table's row: the record's columns, with kind and status as plain text and the desired state as JSON. */
type Row = Omit<DeploymentRecord, 'kind' | 'status' | 'desired'> & { kind: string; status: string; desired_spec: unknown };

function toRecord(r: Row): DeploymentRecord {
  return {
    id: r.id,
    slot_id: r.slot_id,
    kind: r.kind as DeploymentKind,
    status: r.status as DeploymentStatus,
    desired: r.desired_spec as DesiredState,
    node_id: r.node_id,
    attempt: r.attempt,
    error: r.error,
    image_digest: r.image_digest,
    reserved_memory_mb: r.reserved_memory_mb,
    reserved_cpu_millis: r.reserved_cpu_millis,
    created_at: r.created_at,
    finished_at: r.finished_at,
  };
}

/** Deployments, their events, node reservations and the slot's runtime columns. */
/** The slot columns of `desired.addons`, when a deployment carries them (a resize, its move). */
export function addonColumns(addons: DesiredState['addons']): { addon_memory?: boolean; addon_cpu?: boolean; addon_priority_support?: boolean } {
  return addons ? { addon_memory: addons.memory, addon_cpu: addons.cpu, addon_priority_support: addons.priority_support } : {};
}

@Injectable()
export class DeploymentsRepository {
  constructor(
    @Inject(DATABASE) private readonly db: Database,
    private readonly nodes: NodesRepository,
  ) {}

  async create(slotId: string, kind: DeploymentKind, desired: DesiredState, idempotencyKey?: string): Promise<DeploymentRecord> {
    const row = await this.db.prisma.deployment.create({
      data: {
        slot_id: slotId,
        kind,
        desired_spec: desired as object,
        idempotency_key: idempotencyKey ?? `${slotId}:${kind}:${Date.now()}:${Math.random().toString(36).slice(2)}`,
      },
    });
    return toRecord(row);
  }

  async get(id: string): Promise<DeploymentRecord | null> {
    const row = await this.db.prisma.deployment.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** Tenant-scoped read: a deployment of another customer's slot is not found. */
  async getForCustomer(customerId: string, id: string): Promise<DeploymentRecord | null> {
    const row = await this.db.prisma.deployment.findFirst({ where: { id, slot: { customer_id: customerId } } });
    return row ? toRecord(row) : null;
  }

  async listUnfinished(): Promise<DeploymentRecord[]> {
    const rows = await this.db.prisma.deployment.findMany({
      where: { status: { notIn: ['succeeded', 'failed', 'rolled_back'] } },
      orderBy: { created_at: 'asc' },
    });
    return rows.map(toRecord);
  }

  async activeForSlot(slotId: string): Promise<DeploymentRecord | null> {
    const row = await this.db.prisma.deployment.findFirst({
      where: { slot_id: slotId, status: { notIn: ['succeeded', 'failed', 'rolled_back'] } },
      orderBy: { created_at: 'desc' },
    });
    return row ? toRecord(row) : null;
  }

  async latestForSlot(slotId: string): Promise<DeploymentRecord | null> {
    const row = await this.db.prisma.deployment.findFirst({ where: { slot_id: slotId }, orderBy: { created_at: 'desc' } });
    return row ? toRecord(row) : null;
  }

  async setStatus(id: string, status: DeploymentStatus, error?: string | null): Promise<void> {
    const finished = status === 'succeeded' || status === 'failed' || status === 'rolled_back';
    await this.db.prisma.deployment.update({
      where: { id },
      data: {
        status,
        ...(error !== undefined ? { error } : {}),
        ...(status === 'running' ? { started_at: new Date() } : {}),
        ...(finished ? { finished_at: new Date() } : {}),
      },
    });
  }

  async setImageDigest(id: string, digest: string): Promise<void> {
    await this.db.prisma.deployment.update({ where: { id }, data: { image_digest: digest } });
  }

  async bumpAttempt(id: string): Promise<number> {
    const row = await this.db.prisma.deployment.update({ where: { id }, data: { attempt: { increment: 1 } } });
    return row.attempt;
  }

  async appendEvent(id: string, type: string, message: string, data?: unknown): Promise<DeploymentEventView> {
    // One runner drives a deployment at a time, so max(seq)+1 cannot race with itself;
    // the unique (deployment_id, seq) index would refuse it if it did.
    return this.db.prisma.$transaction(async (tx) => {
      const last = await tx.deploymentEvent.findFirst({ where: { deployment_id: id }, orderBy: { seq: 'desc' }, select: { seq: true } });
      const row = await tx.deploymentEvent.create({
        data: { deployment_id: id, seq: (last?.seq ?? 0) + 1, type, message, ...(data === undefined ? {} : { data: data as object }) },
      });
      return { seq: row.seq, type: row.type, message: row.message, at: row.at.toISOString(), ...(data === undefined ? {} : { data }) };
    });
  }

  async events(id: string, afterSeq = 0): Promise<DeploymentEventView[]> {
    const rows = await this.db.prisma.deploymentEvent.findMany({
      where: { deployment_id: id, seq: { gt: afterSeq } },
      orderBy: { seq: 'asc' },
    });
    return rows.map((r) => ({ seq: r.seq, type: r.type, message: r.message, at: r.at.toISOString(), ...(r.data === null ? {} : { data: r.data }) }));
  }

  /**
   * Takes room on a node and gives it to the deployment, in one transaction: the conditional
   * UPDATE is what makes two deployments unable to both take the last room.
   */
  async reserveAndAssign(id: string, nodeId: string, memoryMb: number, cpuMillis: number): Promise<boolean> {
    return this.db.prisma.$transaction(async (tx) => {
      if (!(await this.nodes.reserve(nodeId, memoryMb, cpuMillis, tx))) return false;
      await tx.deployment.update({
        where: { id },
        data: { node_id: nodeId, reserved_memory_mb: memoryMb, reserved_cpu_millis: cpuMillis, status: 'scheduled' },
      });
      return true;
    });
  }

  /** Back to placement with a new desired state (e.g. one more node to avoid). */
  async retarget(id: string, desired: DesiredState): Promise<void> {
    await this.db.prisma.deployment.update({ where: { id }, data: { desired_spec: desired as object, node_id: null, status: 'pending' } });
  }

  /** For a switch in place: the slot's own reservation on its node covers the new agent. */
  async assignWithoutReservation(id: string, nodeId: string): Promise<void> {
    await this.db.prisma.deployment.update({ where: { id }, data: { node_id: nodeId, status: 'scheduled' } });
  }

  /** Gives back what the deployment reserved (after a failure); idempotent. */
  async releaseDeploymentReservation(id: string): Promise<void> {
    await this.db.prisma.$transaction(async (tx) => {
      const d = await tx.deployment.findUnique({ where: { id } });
      if (!d || !d.node_id || (d.reserved_memory_mb === 0 && d.reserved_cpu_millis === 0)) return;
      await this.nodes.release(d.node_id, d.reserved_memory_mb, d.reserved_cpu_millis, tx);
      await tx.deployment.update({ where: { id }, data: { reserved_memory_mb: 0, reserved_cpu_millis: 0 } });
    });
  }

  /** After success the room belongs to the slot, not the deployment. */
  async keepReservation(id: string): Promise<void> {
    await this.db.prisma.deployment.update({ where: { id }, data: { reserved_memory_mb: 0, reserved_cpu_millis: 0 } });
  }

  async getSlot(slotId: string): Promise<SlotRuntime | null> {
    const s = await this.db.prisma.slot.findUnique({ where: { id: slotId } });
    return s ? toSlot(s) : null;
  }

  async updateSlot(slotId: string, patch: SlotRuntimePatch): Promise<void> {
    const { config, published_ports, ...rest } = patch;
    await this.db.prisma.slot.update({
      where: { id: slotId },
      data: {
        ...rest,
        ...(config !== undefined ? { config: config as object } : {}),
        ...(published_ports !== undefined ? { published_ports: published_ports as unknown as object } : {}),
      },
    });
  }

  async slotIdsOnNode(nodeId: string, states: SlotState[]): Promise<string[]> {
    const rows = await this.db.prisma.slot.findMany({ where: { node_id: nodeId, state: { in: states } }, select: { id: true } });
    return rows.map((r) => r.id);
  }

  /** Terminated slots whose data still sits on a node, terminated before `cutoff`. */
  async terminatedBefore(cutoff: Date): Promise<{ id: string; node_id: string }[]> {
    const rows = await this.db.prisma.slot.findMany({
      where: { state: 'terminated', terminated_at: { lt: cutoff }, node_id: { not: null } },
      select: { id: true, node_id: true },
    });
    return rows.map((r) => ({ id: r.id, node_id: r.node_id! }));
  }

  /** Slots that have no node yet and wait for room (placed when room appears). */
  async slotIdsWaiting(): Promise<string[]> {
    const rows = await this.db.prisma.deployment.findMany({ where: { status: 'waiting_capacity' }, select: { slot_id: true } });
    return rows.map((r) => r.slot_id);
  }
}
