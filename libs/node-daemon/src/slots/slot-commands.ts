/**
 * Lifecycle commands on a slot that has a container: stop, start, restart, new resource limits,
 * terminate, logs. Commands on one slot run one at a time (`exclusive`, queued on the record).
 */
import {
  CapacityExhaustedError,
  DEPLOY_SPEC_LIMITS,
  FailedPreconditionError,
  InvalidArgumentError,
  SlotResources,
} from '@berth/domain';
import { Logger } from '../logger';
import { ContainerRuntime, LogChunk, LogOptions, names } from '../runtime/container-runtime';
import type { DeploySequence } from './deploy-sequence';
import type { SlotHealth } from './health-supervisor';
import { SlotRecord } from './slot-record';
import { SlotTable } from './slot-table';

export class SlotCommands {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly table: SlotTable,
    private readonly health: SlotHealth,
    private readonly deploys: Pick<DeploySequence, 'tracker'>,
    private readonly nodeId: string,
    private readonly log: Logger,
  ) {}

  private async exclusive<T>(rec: SlotRecord, fn: () => Promise<T>): Promise<T> {
    const prev = rec.busy ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    rec.busy = next.catch(() => undefined);
    return next;
  }

  private withContainer(slotId: string) {
    this.table.requireReady();
    const rec = this.table.get(slotId);
    if (rec.state === 'creating')
      throw new FailedPreconditionError(`slot ${slotId} is being deployed; wait for the deploy to end`);
    if (!rec.handle)
      throw new FailedPreconditionError(
        `slot ${slotId} has no container (state ${rec.state}); deploy it again`,
      );
    return rec;
  }

  async stop(slotId: string): Promise<SlotRecord> {
    const rec = this.withContainer(slotId);
    return this.exclusive(rec, async () => {
      rec.stoppedByUs = true;
      this.health.stopProbing(rec);
      await this.runtime.stop(rec.handle!);
      this.table.setState(rec, 'stopped', 'stopped by the coordinator');
      return rec;
    });
  }

  async start(slotId: string): Promise<SlotRecord> {
    return this.runAgain(slotId, 'resume', 'started; waiting for health');
  }

  async restart(slotId: string): Promise<SlotRecord> {
    return this.runAgain(slotId, 'restart', 'restarted; waiting for health');
  }

  /** Start (resume) and Restart: the container runs again and is probed as a started slot. */
  private runAgain(slotId: string, how: 'resume' | 'restart', message: string): Promise<SlotRecord> {
    const rec = this.withContainer(slotId);
    return this.exclusive(rec, async () => {
      rec.stoppedByUs = false;
      if (how === 'restart') this.health.stopProbing(rec);
      await this.runtime[how](rec.handle!);
      this.table.setState(rec, 'starting', message);
      this.health.startProbing(rec, false);
      return rec;
    });
  }

  async updateResources(slotId: string, resources: SlotResources): Promise<SlotRecord> {
    const L = DEPLOY_SPEC_LIMITS;
    const bad: string[] = [];
    if (
      !Number.isInteger(resources.memoryBytes) ||
      resources.memoryBytes < L.minMemoryBytes ||
      resources.memoryBytes > L.maxMemoryBytes
    )
      bad.push('memoryBytes');
    if (
      !Number.isInteger(resources.nanoCpus) ||
      resources.nanoCpus < L.minNanoCpus ||
      resources.nanoCpus > L.maxNanoCpus
    )
      bad.push('nanoCpus');
    if (
      !Number.isInteger(resources.pidsLimit) ||
      resources.pidsLimit < L.minPidsLimit ||
      resources.pidsLimit > L.maxPidsLimit
    )
      bad.push('pidsLimit');
    if (bad.length) throw new InvalidArgumentError(`resources out of policy: ${bad.join(', ')}`);
    const rec = this.withContainer(slotId);
    return this.exclusive(rec, async () => {
      const cap = this.table.capacity();
      if (
        cap.allocatedMemoryBytes - rec.resources.memoryBytes + resources.memoryBytes >
        cap.allocatableMemoryBytes
      )
        throw new CapacityExhaustedError('not enough memory on this node for the new limits');
      if (cap.allocatedNanoCpus - rec.resources.nanoCpus + resources.nanoCpus > cap.allocatableNanoCpus)
        throw new CapacityExhaustedError('not enough CPU on this node for the new limits');
      await this.runtime.update(rec.handle!, resources);
      rec.resources = { ...resources };
      if (rec.handle) rec.handle.resources = { ...resources };
      this.table.updateMetrics();
      this.log.info('resources updated', { slot: slotId, ...resources });
      return rec;
    });
  }

  async terminate(slotId: string, purgeData = false): Promise<SlotRecord> {
    this.table.requireReady();
    let rec = this.table.get(slotId);
    const t = this.deploys.tracker(rec.deploymentId);
    if (t && !t.done) {
      await t.finished(); // let an in-flight deploy end (or fail) first
      // A switch whose image could not be pulled gives the slot back to the deployment it replaced.
      rec = this.table.get(slotId);
    }
    return this.exclusive(rec, async () => {
      this.health.stopProbing(rec);
      await this.runtime.destroy(
        rec.handle ?? { containerId: names.container(this.nodeId, rec.slotId), slotId },
        { purgeData },
      );
      rec.handle = undefined;
      this.table.pool.releaseOwner(rec.deploymentId);
      if (this.table.slots.get(slotId) === rec) this.table.slots.delete(slotId);
      const prev = rec.state;
      rec.message = purgeData ? 'terminated; data purged' : 'terminated; data kept';
      this.log.info('slot terminated', { slot: slotId, deployment: rec.deploymentId, purgeData });
      this.table.emitState(rec, prev);
      this.table.events.emit('terminated', rec, prev);
      return rec;
    });
  }

  logs(slotId: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    const rec = this.table.get(slotId);
    if (!rec.handle) throw new FailedPreconditionError(`slot ${slotId} has no container`);
    return this.runtime.logs(rec.handle, opts, signal);
  }
}
