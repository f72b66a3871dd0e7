/**
 * SlotService: the one class the rest of the daemon (grpc/, slot.reconciler.ts, node-agent.ts)
 * talks to about slots. A thin facade: the work is in slot-table.ts, deploy-sequence.ts,
 * health-supervisor.ts and slot-commands.ts.
 */
import { EventEmitter } from 'node:events';
import { NodeSlotState, SlotDeploySpec, SlotResources } from '@berth/domain';
import { DEFAULT_IMAGE_OPTIONS, EnsureOptions, ImageService } from '../images/image.service';
import { Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PortPool } from '../ports/port-pool';
import { ContainerRuntime, LogChunk, LogOptions, RegistryCredentials } from '../runtime/container-runtime';
import { DeployOptions, DeploySequence } from './deploy-sequence';
import { DeploymentTracker } from './deployment-tracker';
import { HealthSupervisor } from './health-supervisor';
import { SlotCommands } from './slot-commands';
import { SlotRecord } from './slot-record';
import { Capacity, CapacityOptions, SlotTable } from './slot-table';

export type SlotServiceOptions = DeployOptions & CapacityOptions;

/**
 * The slots on this node: deploy, lifecycle commands, health probing, capacity. Business rules
 * live here; grpc/ only maps; runtime/ only speaks Docker; slot.reconciler.ts adopts and resyncs.
 */
export class SlotService {
  readonly slots: Map<string, SlotRecord>;
  readonly events: EventEmitter;
  private readonly table: SlotTable;
  private readonly health: HealthSupervisor;
  private readonly deploys: DeploySequence;
  private readonly commands: SlotCommands;

  constructor(
    runtime: ContainerRuntime,
    readonly pool: PortPool,
    metrics: NodeMetrics,
    opts: SlotServiceOptions,
    log: Logger,
    /** Makes deploys' images ready (one with the defaults when not given). */
    images: ImageService = new ImageService(runtime, metrics, DEFAULT_IMAGE_OPTIONS, log),
  ) {
    this.table = new SlotTable(pool, metrics, opts, log);
    this.slots = this.table.slots;
    this.events = this.table.events;
    this.health = new HealthSupervisor(runtime, this.table, metrics, log, (rec, message) =>
      this.deploys.failAndClean(rec, message),
    );
    this.deploys = new DeploySequence(runtime, this.table, this.health, metrics, opts, log, images);
    this.commands = new SlotCommands(runtime, this.table, this.health, this.deploys, opts.nodeId, log);
  }

  /** Set by the reconciler once its first full sync is done. */
  get synced(): boolean {
    return this.table.synced;
  }
  set synced(value: boolean) {
    this.table.synced = value;
  }

  /** Set by the reconciler from whether Docker answers. */
  get dockerUp(): boolean {
    return this.table.dockerUp;
  }
  set dockerUp(value: boolean) {
    this.table.dockerUp = value;
  }

  setHostTotals(memoryBytes: number, nanoCpus: number): void {
    this.table.setHostTotals(memoryBytes, nanoCpus);
  }

  capacity(): Capacity {
    return this.table.capacity();
  }

  updateMetrics(): void {
    this.table.updateMetrics();
  }

  get(slotId: string): SlotRecord {
    return this.table.get(slotId);
  }

  list(): SlotRecord[] {
    return this.table.list();
  }

  /**
   * Starts (or, for a known deployment id, finds) a deployment. Everything that can refuse it is
   * checked synchronously, so two concurrent calls cannot both pass the capacity check. `auth`
   * is used to pull spec.image, for this deployment only; `image` says how (always pulled, size-limited).
   */
  deploy(spec: SlotDeploySpec, replace = false, auth?: RegistryCredentials, image?: EnsureOptions): DeploymentTracker {
    return this.deploys.deploy(spec, replace, auth, image);
  }

  setState(rec: SlotRecord, state: NodeSlotState, message: string): void {
    this.table.setState(rec, state, message);
  }

  startProbing(rec: SlotRecord, deploying: boolean, tracker?: DeploymentTracker): void {
    this.health.startProbing(rec, deploying, tracker);
  }

  stopProbing(rec: SlotRecord): void {
    this.health.stopProbing(rec);
  }

  /** Called by the reconciler on a container event or resync. */
  refresh(slotId: string): Promise<void> {
    return this.health.refresh(slotId);
  }

  stop(slotId: string): Promise<SlotRecord> {
    return this.commands.stop(slotId);
  }

  start(slotId: string): Promise<SlotRecord> {
    return this.commands.start(slotId);
  }

  restart(slotId: string): Promise<SlotRecord> {
    return this.commands.restart(slotId);
  }

  updateResources(slotId: string, resources: SlotResources): Promise<SlotRecord> {
    return this.commands.updateResources(slotId, resources);
  }

  terminate(slotId: string, purgeData = false): Promise<SlotRecord> {
    return this.commands.terminate(slotId, purgeData);
  }

  logs(slotId: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    return this.commands.logs(slotId, opts, signal);
  }

  /** Adopts a container found at startup or resync (see slot.reconciler.ts). */
  adopt(rec: SlotRecord, running: boolean): void {
    this.table.adopt(rec);
    if (running) this.health.startProbing(rec, false);
  }

  shutdown(): void {
    this.table.stopped = true;
    this.health.stopAll();
  }
}
