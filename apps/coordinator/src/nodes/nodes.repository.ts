import { Inject, Injectable } from '@nestjs/common';
import type { Prisma } from '../../../../prisma/generated/client/client';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';

/** The root client or a caller's transaction: room can be taken in the same transaction as what it is for. */
export type Tx = Prisma.TransactionClient;

export type NodeStatus = 'up' | 'down' | 'draining';

/** A node row as the rest of the coordinator sees it (no Prisma types, never the sealed token). */
export interface NodeRecord {
  id: string;
  name: string;
  address: string;
  status: NodeStatus;
  allocatableMemoryMb: number;
  allocatableCpuMillis: number;
  allocatedMemoryMb: number;
  allocatedCpuMillis: number;
  portRangeFrom: number;
  portRangeTo: number;
  publicHost: string | null;
  labels: Record<string, string>;
  reported: Record<string, unknown>;
  lastHeartbeatAt: Date | null;
  certFingerprint: string | null;
  agentVersion: string | null;
  createdAt: Date;
}

export interface NodeListItem extends NodeRecord {
  /** Slots placed on the node that are not terminated. */
  slotCount: number;
}

/** The node token, encrypted under the master key (SecretsService.seal). */
export interface SealedNodeToken {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  keyId: string;
}

export interface NewNode {
  /** Chosen by the caller, so the sealed token can be bound to it (AAD) before the row exists. */
  id: string;
  name: string;
  address: string;
  certFingerprint: string;
  sealedToken: SealedNodeToken;
  allocatableMemoryMb: number;
  allocatableCpuMillis: number;
  portRangeFrom?: number;
  portRangeTo?: number;
  publicHost?: string;
  labels?: Record<string, string>;
  agentVersion?: string;
}

export interface HeartbeatUpdate {
  at: Date;
  reported: Record<string, unknown>;
  allocatableMemoryMb: number;
  allocatableCpuMillis: number;
}

export interface JoinTokenRecord {
  id: string;
  description: string | null;
  expiresAt: Date;
  usedAt: Date | null;
  usedByNodeId: string | null;
  createdAt: Date;
}

type NodeRow = Awaited<ReturnType<Database['prisma']['node']['findUniqueOrThrow']>>;

/*
 * Where the sealed node token lives: the schema has no column for it yet, so it is kept in
 * nodes.credential_hash as "gcm1:<key_id>:<iv>:<tag>:<ciphertext>" (base64). Only this file
 * knows; a dedicated column is a one-line migration later (see docs/adr/0006-fleet.md).
 */
const SEALED_PREFIX = 'gcm1';

export function encodeSealedToken(s: SealedNodeToken): string {
  return [SEALED_PREFIX, s.keyId, s.iv.toString('base64'), s.tag.toString('base64'), s.ciphertext.toString('base64')].join(':');
}

export function decodeSealedToken(v: string | null): SealedNodeToken | null {
  if (!v) return null;
  const parts = v.split(':');
  if (parts.length !== 5 || parts[0] !== SEALED_PREFIX) return null;
  return { keyId: parts[1], iv: Buffer.from(parts[2], 'base64'), tag: Buffer.from(parts[3], 'base64'), ciphertext: Buffer.from(parts[4], 'base64') };
}

function toRecord(r: NodeRow): NodeRecord {
  return {
    id: r.id,
    name: r.name,
    address: r.address,
    status: r.status as NodeStatus,
    allocatableMemoryMb: r.allocatable_memory_mb,
    allocatableCpuMillis: r.allocatable_cpu_millis,
    allocatedMemoryMb: r.allocated_memory_mb,
    allocatedCpuMillis: r.allocated_cpu_millis,
    portRangeFrom: r.port_range_from,
    portRangeTo: r.port_range_to,
    publicHost: r.public_host,
    labels: (r.labels ?? {}) as Record<string, string>,
    reported: (r.reported ?? {}) as Record<string, unknown>,
    lastHeartbeatAt: r.last_heartbeat_at,
    certFingerprint: r.cert_fingerprint,
    agentVersion: r.agent_version,
    createdAt: r.created_at,
  };
}

/** Nodes, their join tokens and the capacity reservations the deployment flow makes on them. */
@Injectable()
export class NodesRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  // ---- capacity reservations -------------------------------------------------------------

  /**
   * Takes room on an `up` node in one conditional UPDATE: two concurrent reservations can never
   * both take the last room. Returns whether it took. Pass `tx` to take it inside a transaction
   * that also records who holds it (DeploymentsRepository.reserveAndAssign).
   */
  async reserve(nodeId: string, memoryMb: number, cpuMillis: number, tx: Tx = this.db.prisma): Promise<boolean> {
    assertAmount(memoryMb, cpuMillis);
    const n = await tx.$executeRaw`
      UPDATE nodes
         SET allocated_memory_mb = allocated_memory_mb + ${memoryMb},
             allocated_cpu_millis = allocated_cpu_millis + ${cpuMillis},
             updated_at = now()
       WHERE id = ${nodeId}::uuid
         AND status = 'up'
         AND allocated_memory_mb + ${memoryMb} <= allocatable_memory_mb
         AND allocated_cpu_millis + ${cpuMillis} <= allocatable_cpu_millis`;
    return n === 1;
  }

  /** Gives room back (whatever the node's status); never below zero. Returns whether the node exists. */
  async release(nodeId: string, memoryMb: number, cpuMillis: number, tx: Tx = this.db.prisma): Promise<boolean> {
    assertAmount(memoryMb, cpuMillis);
    const n = await tx.$executeRaw`
      UPDATE nodes
         SET allocated_memory_mb = GREATEST(0, allocated_memory_mb - ${memoryMb}),
             allocated_cpu_millis = GREATEST(0, allocated_cpu_millis - ${cpuMillis}),
             updated_at = now()
       WHERE id = ${nodeId}::uuid`;
    return n === 1;
  }

  /** Grows (or shrinks, with negative deltas) a slot's room on its node; false when it does not fit. */
  async resize(nodeId: string, deltaMemoryMb: number, deltaCpuMillis: number): Promise<boolean> {
    const took = await this.db.prisma.$executeRaw`
      UPDATE nodes SET allocated_memory_mb = GREATEST(allocated_memory_mb + ${deltaMemoryMb}, 0),
                       allocated_cpu_millis = GREATEST(allocated_cpu_millis + ${deltaCpuMillis}, 0),
                       updated_at = now()
      WHERE id = ${nodeId}::uuid
        AND allocated_memory_mb + ${deltaMemoryMb} <= allocatable_memory_mb
        AND allocated_cpu_millis + ${deltaCpuMillis} <= allocatable_cpu_millis`;
    return took === 1;
  }

  // ---- nodes -------------------------------------------------------------------------------

  async create(n: NewNode): Promise<NodeRecord> {
    const row = await this.db.prisma.node.create({ data: this.nodeData(n) });
    return toRecord(row);
  }

  /**
   * Enrolment in one transaction: the join token is consumed only if unused and unexpired
   * (a conditional UPDATE, so two enrolments racing on one token cannot both win) and the node
   * is created with it. Returns null when the token was not consumable.
   */
  async createWithJoinToken(tokenHash: string, now: Date, n: NewNode): Promise<NodeRecord | null> {
    return this.db.prisma.$transaction(async (tx) => {
      const taken = await tx.nodeJoinToken.updateMany({ where: { token_hash: tokenHash, used_at: null, expires_at: { gt: now } }, data: { used_at: now } });
      if (taken.count !== 1) return null;
      const row = await tx.node.create({ data: this.nodeData(n) });
      await tx.nodeJoinToken.update({ where: { token_hash: tokenHash }, data: { used_by_node_id: row.id } });
      return toRecord(row);
    });
  }

  private nodeData(n: NewNode) {
    return {
      id: n.id,
      name: n.name,
      address: n.address,
      status: 'up',
      cert_fingerprint: n.certFingerprint,
      credential_hash: encodeSealedToken(n.sealedToken),
      allocatable_memory_mb: n.allocatableMemoryMb,
      allocatable_cpu_millis: n.allocatableCpuMillis,
      ...(n.portRangeFrom !== undefined ? { port_range_from: n.portRangeFrom } : {}),
      ...(n.portRangeTo !== undefined ? { port_range_to: n.portRangeTo } : {}),
      public_host: n.publicHost ?? null,
      labels: n.labels ?? {},
      agent_version: n.agentVersion ?? null,
    };
  }

  /** Re-registration of a known node (the all-in-one local node after a restart): new address, cert and token. */
  async updateIdentity(nodeId: string, v: { address: string; certFingerprint: string; sealedToken: SealedNodeToken; agentVersion?: string }): Promise<NodeRecord> {
    const row = await this.db.prisma.node.update({
      where: { id: nodeId },
      data: { address: v.address, cert_fingerprint: v.certFingerprint, credential_hash: encodeSealedToken(v.sealedToken), agent_version: v.agentVersion ?? null },
    });
    return toRecord(row);
  }

  async get(nodeId: string): Promise<NodeRecord | null> {
    if (!isUuid(nodeId)) return null;
    const row = await this.db.prisma.node.findUnique({ where: { id: nodeId } });
    return row ? toRecord(row) : null;
  }

  async getByName(name: string): Promise<NodeRecord | null> {
    const row = await this.db.prisma.node.findUnique({ where: { name } });
    return row ? toRecord(row) : null;
  }

  /** The node's sealed token, for the connection to it (nothing else reads it). */
  async getSealedToken(nodeId: string): Promise<SealedNodeToken | null> {
    const row = await this.db.prisma.node.findUnique({ where: { id: nodeId }, select: { credential_hash: true } });
    return decodeSealedToken(row?.credential_hash ?? null);
  }

  async list(): Promise<NodeRecord[]> {
    const rows = await this.db.prisma.node.findMany({ orderBy: { name: 'asc' } });
    return rows.map(toRecord);
  }

  /** Nodes with the number of their slots that are not terminated (the admin list). */
  async listWithSlotCounts(): Promise<NodeListItem[]> {
    const [rows, counts] = await Promise.all([
      this.db.prisma.node.findMany({ orderBy: { name: 'asc' } }),
      this.db.prisma.slot.groupBy({ by: ['node_id'], where: { node_id: { not: null }, state: { not: 'terminated' } }, _count: { _all: true } }),
    ]);
    const byNode = new Map(counts.map((c) => [c.node_id, c._count._all]));
    return rows.map((r) => ({ ...toRecord(r), slotCount: byNode.get(r.id) ?? 0 }));
  }

  /** Records a heartbeat: when, what the node reported, and the allocatable capacity it reports. */
  async updateHeartbeat(nodeId: string, h: HeartbeatUpdate): Promise<void> {
    await this.db.prisma.node.update({
      where: { id: nodeId },
      data: {
        last_heartbeat_at: h.at,
        reported: h.reported as object,
        allocatable_memory_mb: h.allocatableMemoryMb,
        allocatable_cpu_millis: h.allocatableCpuMillis,
      },
    });
  }

  /**
   * Sets the status; with `from`, only when the current status is one of them (so the monitor's
   * "down" never overwrites an admin's "draining"). Returns whether the row changed.
   */
  async setStatus(nodeId: string, status: NodeStatus, from?: readonly NodeStatus[]): Promise<boolean> {
    if (!isUuid(nodeId)) return false;
    const r = await this.db.prisma.node.updateMany({ where: { id: nodeId, ...(from ? { status: { in: [...from] } } : {}) }, data: { status } });
    return r.count === 1;
  }

  // ---- join tokens -------------------------------------------------------------------------

  async createJoinToken(t: { tokenHash: string; description?: string; expiresAt: Date }): Promise<JoinTokenRecord> {
    const row = await this.db.prisma.nodeJoinToken.create({ data: { token_hash: t.tokenHash, description: t.description ?? null, expires_at: t.expiresAt } });
    return { id: row.id, description: row.description, expiresAt: row.expires_at, usedAt: row.used_at, usedByNodeId: row.used_by_node_id, createdAt: row.created_at };
  }

  async findJoinToken(tokenHash: string): Promise<JoinTokenRecord | null> {
    const row = await this.db.prisma.nodeJoinToken.findUnique({ where: { token_hash: tokenHash } });
    return row ? { id: row.id, description: row.description, expiresAt: row.expires_at, usedAt: row.used_at, usedByNodeId: row.used_by_node_id, createdAt: row.created_at } : null;
  }
}

function assertAmount(memoryMb: number, cpuMillis: number): void {
  if (!Number.isInteger(memoryMb) || !Number.isInteger(cpuMillis) || memoryMb < 0 || cpuMillis < 0) {
    throw new RangeError(`reservation amounts must be non-negative integers (got ${memoryMb} MB, ${cpuMillis} mCPU)`);
  }
}

function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
