/**
 * The slot table: which slots this node holds, whether it may take commands (Docker up, first
 * sync done, not shutting down), what they use (capacity, metrics) and their state changes (the
 * `state` events WatchEvents and followers of a deployment listen to).
 */
import { EventEmitter } from 'node:events';
import {
  CapacityExhaustedError,
  NodeSlotState,
  NotFoundError,
  SlotDeploySpec,
  UnavailableError,
} from '@berth/domain';
import { Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PortPool } from '../ports/port-pool';
import { holdsResources, SlotRecord } from './slot-record';

export interface CapacityOptions {
  /** Explicit allocatable values; else host totals minus the reserve. */
  allocatableMemoryBytes?: number;
  allocatableNanoCpus?: number;
  reserveMemoryBytes: number;
  reserveNanoCpus: number;
}

export interface Capacity {
  allocatableMemoryBytes: number;
  allocatableNanoCpus: number;
  allocatedMemoryBytes: number;
  allocatedNanoCpus: number;
  slotsByState: Record<string, number>;
  portsTotal: number;
  portsFree: number;
  dockerUp: boolean;
}

export class SlotTable {
  readonly slots = new Map<string, SlotRecord>();
  readonly events = new EventEmitter();
  synced = false;
  dockerUp = false;
  /** Shutting down: no new work is accepted and probes stop rescheduling. */
  stopped = false;
  private hostMemoryBytes = 0;
  private hostNanoCpus = 0;

  constructor(
    readonly pool: PortPool,
    private readonly metrics: NodeMetrics,
    private readonly opts: CapacityOptions,
    private readonly log: Logger,
  ) {
    this.events.setMaxListeners(0);
  }

  setHostTotals(memoryBytes: number, nanoCpus: number): void {
    this.hostMemoryBytes = memoryBytes;
    this.hostNanoCpus = nanoCpus;
  }

  capacity(): Capacity {
    let mem = 0;
    let cpu = 0;
    const byState: Record<string, number> = {
      creating: 0,
      starting: 0,
      healthy: 0,
      unhealthy: 0,
      stopped: 0,
      failed: 0,
    };
    for (const r of this.slots.values()) {
      byState[r.state] = (byState[r.state] ?? 0) + 1;
      if (holdsResources(r)) {
        mem += r.resources.memoryBytes;
        cpu += r.resources.nanoCpus;
      }
    }
    return {
      allocatableMemoryBytes:
        this.opts.allocatableMemoryBytes ?? Math.max(0, this.hostMemoryBytes - this.opts.reserveMemoryBytes),
      allocatableNanoCpus:
        this.opts.allocatableNanoCpus ?? Math.max(0, this.hostNanoCpus - this.opts.reserveNanoCpus),
      allocatedMemoryBytes: mem,
      allocatedNanoCpus: cpu,
      slotsByState: byState,
      portsTotal: this.pool.total,
      portsFree: this.pool.free,
      dockerUp: this.dockerUp,
    };
  }

  updateMetrics(): void {
    const c = this.capacity();
    for (const [state, n] of Object.entries(c.slotsByState)) this.metrics.slots.set({ state }, n);
    this.metrics.allocatableMemory.set(c.allocatableMemoryBytes);
    this.metrics.allocatedMemory.set(c.allocatedMemoryBytes);
    this.metrics.allocatableCpu.set(c.allocatableNanoCpus / 1e9);
    this.metrics.allocatedCpu.set(c.allocatedNanoCpus / 1e9);
    this.metrics.portsFree.set(c.portsFree);
    this.metrics.portsTotal.set(c.portsTotal);
    this.metrics.dockerUp.set(c.dockerUp ? 1 : 0);
  }

  /**
   * Refuses a deployment the node has no memory, CPU or host ports for: a replaced deployment's
   * count as free, `portsPending` (admitted deployments still making their image ready) as taken.
   */
  requireRoom(spec: SlotDeploySpec, nodeId: string, replacing?: SlotRecord, portsPending = 0): void {
    const cap = this.capacity();
    const freedMem = replacing?.resources.memoryBytes ?? 0;
    const freedCpu = replacing?.resources.nanoCpus ?? 0;
    if (cap.allocatedMemoryBytes - freedMem + spec.resources.memoryBytes > cap.allocatableMemoryBytes)
      throw new CapacityExhaustedError(
        `not enough memory on node ${nodeId}: ${spec.resources.memoryBytes} bytes asked, ${cap.allocatableMemoryBytes - cap.allocatedMemoryBytes + freedMem} free`,
      );
    if (cap.allocatedNanoCpus - freedCpu + spec.resources.nanoCpus > cap.allocatableNanoCpus)
      throw new CapacityExhaustedError(
        `not enough CPU on node ${nodeId}: ${spec.resources.nanoCpus / 1e9} asked, ${(cap.allocatableNanoCpus - cap.allocatedNanoCpus + freedCpu) / 1e9} free`,
      );
    const publishCount = spec.ports.filter((p) => p.publish).length;
    // A replaced deployment's ports come back before the new one allocates (runDeploy, prepare step).
    const freePorts = this.pool.free + (replacing?.ports.length ?? 0) - portsPending;
    if (publishCount > freePorts)
      throw new CapacityExhaustedError(
        `port pool exhausted: ${publishCount} port(s) needed, ${freePorts} free`,
      );
  }

  get(slotId: string): SlotRecord {
    const r = this.slots.get(slotId);
    if (!r) throw new NotFoundError(`slot ${slotId} is not on this node`);
    return r;
  }

  list(): SlotRecord[] {
    return [...this.slots.values()];
  }

  requireReady(): void {
    if (this.stopped) throw new UnavailableError('node daemon is shutting down');
    if (!this.dockerUp) throw new UnavailableError('Docker engine is not reachable; retry later');
    if (!this.synced)
      throw new UnavailableError('node daemon is still adopting its containers; retry shortly');
  }

  setState(rec: SlotRecord, state: NodeSlotState, message: string): void {
    const prev = rec.state;
    rec.message = message;
    if (prev === state) return;
    rec.state = state;
    rec.stateSinceMs = Date.now();
    this.log.info('slot state', {
      slot: rec.slotId,
      deployment: rec.deploymentId,
      from: prev,
      to: state,
      message,
    });
    this.emitState(rec, prev);
  }

  emitState(rec: SlotRecord, prev: NodeSlotState | 'terminated'): void {
    this.events.emit('state', rec, prev);
    this.updateMetrics();
  }

  /** Takes in an adopted container's record and its host ports (probing is the caller's part). */
  adopt(rec: SlotRecord): void {
    this.slots.set(rec.slotId, rec);
    for (const p of rec.ports) this.pool.markUsed(p.hostPort, rec.deploymentId);
    this.emitState(rec, 'creating');
  }
}
