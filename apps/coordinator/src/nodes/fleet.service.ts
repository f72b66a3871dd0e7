import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { UnavailableError } from '@berth/domain';
import type { Capacity, Heartbeat, NodeAgentClient, NodeEvent } from '@berth/proto';
import { PlacementService, type NodeCapacity } from '../scheduler';
import { SecretsService } from '../secrets/secrets.service';
import type { FleetEvent } from './fleet-events';
import { LivenessTracker } from './liveness';
import { NODE_TRANSPORT, NodeConnection, type NodeTransport } from './node-connection';
import { NODES_CONFIG, type NodesConfig } from './nodes.config';
import { NodesRepository, type NodeRecord, type NodeStatus, type SealedNodeToken } from './nodes.repository';

const MiB = 1024 * 1024;

/** AAD that binds a sealed node token to its node: a row copied to another node does not decrypt. */
export function nodeTokenAad(nodeId: string): string {
  return `node:${nodeId}:token`;
}

/**
 * The coordinator's live view of the fleet: one pinned gRPC connection and WatchEvents stream
 * per node, heartbeats written to the nodes table and PlacementService, down detection after
 * BERTH_NODE_GRACE_SECONDS of silence, and the fleet events the deployment flow follows.
 *
 * Status rules (docs/adr/0006-fleet.md): silence turns `up` into `down`; speaking again turns
 * `down` back into `up`. `draining` is the admin's and is never changed by liveness, but a silent
 * draining node still emits node_down (its slots are lost either way) and getClient refuses it.
 */
@Injectable()
export class FleetService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('fleet');
  private readonly subject = new Subject<FleetEvent>();
  private readonly connections = new Map<string, NodeConnection>();
  private readonly liveness: LivenessTracker;
  /** Last known status per node (mirrors the table; kept here so heartbeats need no read). */
  private readonly status = new Map<string, NodeStatus>();
  /** One heartbeat write in flight per node; a newer heartbeat replaces the queued one. */
  private readonly writes = new Map<string, { running: Promise<void>; next?: Heartbeat }>();
  private monitor: NodeJS.Timeout | undefined;
  private started = false;

  /** Fleet events, hot: subscribe before they happen. */
  readonly events: Observable<FleetEvent> = this.subject.asObservable();

  constructor(
    private readonly repo: NodesRepository,
    private readonly placement: PlacementService,
    private readonly secrets: SecretsService,
    @Inject(NODES_CONFIG) private readonly config: NodesConfig,
    @Inject(NODE_TRANSPORT) private readonly transport: NodeTransport,
  ) {
    this.liveness = new LivenessTracker(config.graceMs);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /** Loads every node, fills PlacementService, connects, and starts the down monitor. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const nodes = await this.repo.list();
    this.placement.syncNodes(nodes.map((n) => toNodeCapacity(n, n.status)));
    for (const n of nodes) await this.connect(n);
    const period = Math.max(100, Math.min(1000, Math.floor(this.config.graceMs / 4)));
    this.monitor = setInterval(() => void this.sweep(), period);
    this.monitor.unref?.();
  }

  stop(): void {
    clearInterval(this.monitor);
    this.monitor = undefined;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
    this.started = false;
  }

  /**
   * The pinned, authenticated client of an `up` (or draining but reachable) node, for the
   * deployment flow. UnavailableError when the node is unknown, not yet connected or down.
   */
  getClient(nodeId: string): NodeAgentClient {
    const conn = this.connections.get(nodeId);
    if (!conn) throw new UnavailableError(`node ${nodeId} is not connected`);
    if (this.liveness.isDown(nodeId) || this.status.get(nodeId) === 'down') throw new UnavailableError(`node ${nodeId} is down`);
    const client = conn.getClient();
    if (!client) throw new UnavailableError(`node ${nodeId} is not connected yet`);
    return client;
  }

  /** The nodes that take new slots now: connected, speaking and `up` (not draining, not down). */
  upNodeIds(): string[] {
    return [...this.connections.keys()].filter((id) => this.isUp(id));
  }

  /** Whether the node takes new slots now (see upNodeIds). */
  isUp(nodeId: string): boolean {
    return this.connections.has(nodeId) && this.status.get(nodeId) === 'up' && !this.liveness.isDown(nodeId);
  }

  /** Whether the node is speaking to us now (heartbeats within the grace period). */
  isReachable(nodeId: string): boolean {
    return this.connections.has(nodeId) && !this.liveness.isDown(nodeId);
  }

  /**
   * Opens (or re-opens, after a new enrolment or a new identity) the connection to a node.
   * The node gets a fresh grace period to speak.
   */
  async connect(node: NodeRecord): Promise<void> {
    this.connections.get(node.id)?.close();
    this.connections.delete(node.id);
    this.status.set(node.id, node.status);
    this.placement.upsertNode(toNodeCapacity(node, node.status));
    const sealed = await this.repo.getSealedToken(node.id);
    if (!sealed || !node.certFingerprint) {
      this.log.warn(`node ${node.name} (${node.id}) has no stored credential or fingerprint; not connecting (re-enrol it)`);
      return;
    }
    let token: string;
    try {
      token = this.openToken(node.id, sealed);
    } catch {
      this.log.error(`node ${node.name} (${node.id}): its token does not decrypt with this master key; not connecting (re-enrol it)`);
      return;
    }
    this.liveness.watch(node.id, Date.now(), node.status === 'down');
    const conn = new NodeConnection({
      nodeId: node.id,
      address: node.address,
      fingerprintSha256: node.certFingerprint,
      token,
      heartbeatMs: this.config.heartbeatMs,
      maxBackoffMs: this.config.maxBackoffMs,
      transport: this.transport,
      onEvent: (ev) => this.onNodeEvent(node.id, ev),
      onTrouble: (msg, attempt) => {
        // Say it on the first failure and then sparingly; the monitor says "down" when it matters.
        if (attempt === 1 || attempt % 20 === 0) this.log.warn(`node ${node.name} (${node.address}): ${msg} (attempt ${attempt}, retrying)`);
      },
    });
    this.connections.set(node.id, conn);
    conn.start();
  }

  /** Stops talking to a node (it was removed). */
  disconnect(nodeId: string): void {
    this.connections.get(nodeId)?.close();
    this.connections.delete(nodeId);
    this.liveness.forget(nodeId);
    this.status.delete(nodeId);
    this.placement.removeNode(nodeId);
  }

  /** Records an admin's status change (drain/undrain) in the live view and tells the flow. */
  statusChanged(nodeId: string, status: NodeStatus): void {
    this.status.set(nodeId, status);
    const effective: NodeStatus = status === 'up' && this.liveness.isDown(nodeId) ? 'down' : status;
    this.placement.setNodeStatus(nodeId, effective);
    if (status === 'draining') this.emit({ type: 'node_draining', nodeId });
    else if (effective === 'up') this.emit({ type: 'node_up', nodeId });
  }

  private emit(ev: FleetEvent): void {
    try {
      this.subject.next(ev);
    } catch (e) {
      this.log.error(`a fleet event subscriber threw on ${ev.type}: ${(e as Error).message}`);
    }
  }

  private openToken(nodeId: string, sealed: SealedNodeToken): string {
    return this.secrets.open(sealed, nodeTokenAad(nodeId));
  }

  private onNodeEvent(nodeId: string, ev: NodeEvent): void {
    if (!this.connections.has(nodeId)) return;
    const seen = this.liveness.seen(nodeId, Date.now());
    if (seen === 'came_up') void this.cameUp(nodeId);
    const e = ev.event;
    if (!e) return;
    if (e.$case === 'heartbeat') {
      this.queueHeartbeat(nodeId, e.value);
      if (e.value.capacity) this.emit({ type: 'heartbeat', nodeId, capacity: e.value.capacity, synced: e.value.synced });
    } else if (e.$case === 'slotStateChanged' && e.value.slot) {
      this.emit({ type: 'slot_state', nodeId, slot: e.value.slot });
    }
  }

  private async cameUp(nodeId: string): Promise<void> {
    try {
      const changed = await this.repo.setStatus(nodeId, 'up', ['down']);
      const status = this.status.get(nodeId);
      if (changed || status === 'down') this.status.set(nodeId, 'up');
      this.placement.setNodeStatus(nodeId, this.status.get(nodeId) ?? 'up');
      this.log.log(`node ${nodeId} is back${this.status.get(nodeId) === 'draining' ? ' (still draining)' : ''}`);
      this.emit({ type: 'node_up', nodeId });
    } catch (e) {
      this.log.error(`node ${nodeId}: could not record it is up: ${(e as Error).message}`);
    }
  }

  private queueHeartbeat(nodeId: string, hb: Heartbeat): void {
    const w = this.writes.get(nodeId);
    if (w) {
      w.next = hb;
      return;
    }
    const entry: { running: Promise<void>; next?: Heartbeat } = { running: Promise.resolve() };
    this.writes.set(nodeId, entry);
    entry.running = (async () => {
      let cur: Heartbeat | undefined = hb;
      while (cur) {
        await this.writeHeartbeat(nodeId, cur);
        cur = entry.next;
        entry.next = undefined;
      }
      this.writes.delete(nodeId);
    })();
  }

  private async writeHeartbeat(nodeId: string, hb: Heartbeat): Promise<void> {
    const cap = hb.capacity;
    try {
      const current = this.placement.getNode(nodeId);
      await this.repo.updateHeartbeat(nodeId, {
        at: new Date(),
        reported: { ...reportedFrom(cap), synced: hb.synced, node_at_ms: hb.atMs, daemon_node_id: hb.nodeId, image_bytes: hb.imageBytes },
        allocatableMemoryMb: cap ? Math.floor(cap.allocatableMemoryBytes / MiB) : Math.floor((current?.allocatableMemoryBytes ?? 0) / MiB),
        allocatableCpuMillis: cap ? Math.floor(cap.allocatableNanoCpus / 1e6) : Math.floor((current?.allocatableNanoCpus ?? 0) / 1e6),
      });
      const node = await this.repo.get(nodeId);
      if (!node || !this.connections.has(nodeId)) return;
      this.status.set(nodeId, node.status);
      const effective: NodeStatus = this.liveness.isDown(nodeId) && node.status === 'up' ? 'down' : node.status;
      this.placement.upsertNode({ ...toNodeCapacity(node, effective), freePorts: cap ? cap.portsFree : (current?.freePorts ?? 0) });
    } catch (e) {
      this.log.warn(`node ${nodeId}: could not record a heartbeat: ${(e as Error).message}`);
    }
  }

  /** One monitor tick: nodes silent past the grace period go down (once per outage). */
  async sweep(now = Date.now()): Promise<void> {
    for (const nodeId of this.liveness.sweep(now)) {
      const seenAt = this.liveness.lastSeenAt(nodeId);
      this.log.warn(`node ${nodeId} silent for ${seenAt ? Math.round((now - seenAt) / 1000) : '?'} s (grace ${this.config.graceMs / 1000} s): marking it down`);
      try {
        if (await this.repo.setStatus(nodeId, 'down', ['up'])) this.status.set(nodeId, 'down');
      } catch (e) {
        this.log.error(`node ${nodeId}: could not record it is down: ${(e as Error).message}`);
      }
      this.placement.setNodeStatus(nodeId, this.status.get(nodeId) === 'draining' ? 'draining' : 'down');
      this.emit({ type: 'node_down', nodeId });
      // A silent stream may sit on a half-open connection: start over.
      this.connections.get(nodeId)?.restart();
    }
  }
}

/** The table's view of a node in PlacementService's units. */
export function toNodeCapacity(n: NodeRecord, status: NodeStatus): NodeCapacity {
  const portsFree = typeof n.reported.ports_free === 'number' ? n.reported.ports_free : n.portRangeTo - n.portRangeFrom + 1;
  return {
    id: n.id,
    status,
    allocatableMemoryBytes: n.allocatableMemoryMb * MiB,
    allocatedMemoryBytes: n.allocatedMemoryMb * MiB,
    allocatableNanoCpus: n.allocatableCpuMillis * 1e6,
    allocatedNanoCpus: n.allocatedCpuMillis * 1e6,
    freePorts: portsFree,
    labels: n.labels,
  };
}

function reportedFrom(c: Capacity | undefined): Record<string, unknown> {
  if (!c) return {};
  return {
    allocatable_memory_bytes: c.allocatableMemoryBytes,
    allocatable_nano_cpus: c.allocatableNanoCpus,
    allocated_memory_bytes: c.allocatedMemoryBytes,
    allocated_nano_cpus: c.allocatedNanoCpus,
    free_memory_bytes: c.freeMemoryBytes,
    free_nano_cpus: c.freeNanoCpus,
    slots_by_state: c.slotsByState,
    ports_total: c.portsTotal,
    ports_free: c.portsFree,
    docker_up: c.dockerUp,
  };
}
