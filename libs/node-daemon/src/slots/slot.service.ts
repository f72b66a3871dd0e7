import { EventEmitter } from 'node:events';
import {
  CapacityExhaustedError,
  FailedPreconditionError,
  NodeSlotState,
  NotFoundError,
  SlotDeploySpec,
  SlotPortBinding,
  SlotResources,
  UnavailableError,
  validateDeploySpec,
  InvalidArgumentError,
  DEPLOY_SPEC_LIMITS,
} from '@berth/domain';
import { httpProbe } from '../health/http-probe';
import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PortPool } from '../ports/port-pool';
import { ContainerRuntime, LogChunk, LogOptions, names } from '../runtime/container-runtime';
import { holdsResources, SlotRecord } from './slot-record';

export interface DeployProgress {
  deploymentId: string;
  slotId: string;
  phase: string;
  state: NodeSlotState;
  message: string;
  atMs: number;
  final: boolean;
  slot: SlotRecord;
}

/** States a deployment can end in (the state of its final event). */
const END_STATES: ReadonlySet<NodeSlotState> = new Set(['healthy', 'failed', 'stopped', 'unhealthy']);

/** One deployment's progress: history for late subscribers (a retried Deploy) plus live events. */
export class DeploymentTracker {
  readonly history: DeployProgress[] = [];
  private readonly emitter = new EventEmitter();
  done = false;
  readonly startedAtMs = Date.now();

  constructor(
    readonly deploymentId: string,
    readonly slotId: string,
  ) {
    this.emitter.setMaxListeners(0);
  }

  push(p: DeployProgress): void {
    if (this.done) return;
    if (p.final && !END_STATES.has(p.state))
      throw new Error(`final deploy event with non-final state ${p.state} (${p.phase})`);
    this.history.push(p);
    if (p.final) this.done = true;
    this.emitter.emit('progress', p);
  }

  /** Replays the history, then live events until final. Returns an unsubscribe function. */
  follow(cb: (p: DeployProgress) => void): () => void {
    for (const p of this.history) cb(p);
    if (this.done) return () => undefined;
    this.emitter.on('progress', cb);
    return () => this.emitter.off('progress', cb);
  }

  finished(): Promise<DeployProgress> {
    return new Promise((resolve) => {
      const off = this.follow((p) => {
        if (p.final) {
          queueMicrotask(() => off());
          resolve(p);
        }
      });
    });
  }
}

export interface SlotServiceOptions {
  nodeId: string;
  publishIp: string;
  restartMaxRetries: number;
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

/**
 * The slots on this node: deploy, lifecycle commands, health probing, capacity. Business rules
 * live here; grpc/ only maps; runtime/ only speaks Docker; slot.reconciler.ts adopts and resyncs.
 */
export class SlotService {
  readonly slots = new Map<string, SlotRecord>();
  private readonly trackers = new Map<string, DeploymentTracker>();
  readonly events = new EventEmitter();
  synced = false;
  dockerUp = false;
  private hostMemoryBytes = 0;
  private hostNanoCpus = 0;
  private stopped = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    readonly pool: PortPool,
    private readonly metrics: NodeMetrics,
    private readonly opts: SlotServiceOptions,
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

  get(slotId: string): SlotRecord {
    const r = this.slots.get(slotId);
    if (!r) throw new NotFoundError(`slot ${slotId} is not on this node`);
    return r;
  }

  list(): SlotRecord[] {
    return [...this.slots.values()];
  }

  private requireReady(): void {
    if (this.stopped) throw new UnavailableError('node daemon is shutting down');
    if (!this.dockerUp) throw new UnavailableError('Docker engine is not reachable; retry later');
    if (!this.synced)
      throw new UnavailableError('node daemon is still adopting its containers; retry shortly');
  }

  /**
   * Starts (or, for a known deployment id, finds) a deployment. Everything that can refuse it is
   * checked synchronously here, so two concurrent calls cannot both pass the capacity check.
   */
  deploy(spec: SlotDeploySpec, replace = false): DeploymentTracker {
    validateDeploySpec(spec);
    this.requireReady();
    const known = this.trackers.get(spec.deploymentId);
    if (known) {
      if (known.slotId !== spec.slotId)
        throw new InvalidArgumentError(`deployment ${spec.deploymentId} belongs to slot ${known.slotId}`);
      return known;
    }
    const current = this.slots.get(spec.slotId);
    if (current && current.deploymentId === spec.deploymentId) {
      // Adopted after a restart: the container exists; report it, never make a second one.
      const t = new DeploymentTracker(spec.deploymentId, spec.slotId);
      this.trackers.set(spec.deploymentId, t);
      this.followExisting(t, current);
      return t;
    }
    if (current && current.state === 'creating')
      throw new FailedPreconditionError(
        `slot ${spec.slotId} is being deployed (deployment ${current.deploymentId}); retry when it ends`,
      );
    const replacing = current && holdsResources(current) ? current : undefined;
    if (replacing && !replace)
      throw new FailedPreconditionError(
        `slot ${spec.slotId} runs deployment ${replacing.deploymentId}; send replace=true to replace it`,
      );

    const cap = this.capacity();
    const freedMem = replacing?.resources.memoryBytes ?? 0;
    const freedCpu = replacing?.resources.nanoCpus ?? 0;
    if (cap.allocatedMemoryBytes - freedMem + spec.resources.memoryBytes > cap.allocatableMemoryBytes)
      throw new CapacityExhaustedError(
        `not enough memory on node ${this.opts.nodeId}: ${spec.resources.memoryBytes} bytes asked, ${cap.allocatableMemoryBytes - cap.allocatedMemoryBytes + freedMem} free`,
      );
    if (cap.allocatedNanoCpus - freedCpu + spec.resources.nanoCpus > cap.allocatableNanoCpus)
      throw new CapacityExhaustedError(
        `not enough CPU on node ${this.opts.nodeId}: ${spec.resources.nanoCpus / 1e9} asked, ${(cap.allocatableNanoCpus - cap.allocatedNanoCpus + freedCpu) / 1e9} free`,
      );
    const publishCount = spec.ports.filter((p) => p.publish).length;
    // A replaced deployment's ports come back before the new one allocates (runDeploy).
    const freePorts = this.pool.free + (replacing?.ports.length ?? 0);
    if (publishCount > freePorts)
      throw new CapacityExhaustedError(`port pool exhausted: ${publishCount} port(s) needed, ${freePorts} free`);

    const now = Date.now();
    const rec: SlotRecord = {
      slotId: spec.slotId,
      deploymentId: spec.deploymentId,
      customerId: spec.customerId,
      agentTypeId: spec.agentTypeId,
      agentVersion: spec.agentVersion,
      image: spec.image,
      state: 'creating',
      message: 'accepted',
      ports: [],
      containerPorts: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
      health: spec.health,
      resources: { ...spec.resources },
      restartCount: 0,
      oomKilled: false,
      createdAtMs: now,
      stateSinceMs: now,
      lastProbeAtMs: 0,
      probe: { startedAtMs: 0, failures: 0, everHealthy: false, deploying: true },
      stoppedByUs: false,
    };
    const tracker = new DeploymentTracker(spec.deploymentId, spec.slotId);
    this.trackers.set(spec.deploymentId, tracker);
    this.slots.set(spec.slotId, rec);
    this.emitState(rec, replacing?.state ?? 'creating');
    this.progress(tracker, rec, 'accepted', `deployment ${spec.deploymentId} accepted`);
    this.log.info('deploy accepted', {
      slot: spec.slotId,
      deployment: spec.deploymentId,
      agentType: spec.agentTypeId,
      image: spec.image,
      replacing: replacing?.deploymentId,
    });
    void this.runDeploy(spec, rec, tracker, replacing);
    return tracker;
  }

  private async runDeploy(
    spec: SlotDeploySpec,
    rec: SlotRecord,
    tracker: DeploymentTracker,
    replacing?: SlotRecord,
  ): Promise<void> {
    const timer = this.metrics.deployDuration.startTimer();
    let ports: number[] = [];
    try {
      if (replacing) {
        this.stopProbing(replacing);
        if (replacing.handle) await this.runtime.destroy(replacing.handle);
        this.pool.releaseOwner(replacing.deploymentId);
        this.progress(
          tracker,
          rec,
          'replaced',
          `previous deployment ${replacing.deploymentId} removed (its data volume is kept)`,
        );
      }
      const published = spec.ports.filter((p) => p.publish);
      ports = await this.pool.allocate(published.length, spec.deploymentId);
      rec.ports = published.map((p, i): SlotPortBinding => ({
        name: p.name,
        containerPort: p.containerPort,
        hostIp: this.opts.publishIp,
        hostPort: ports[i],
      }));
      this.progress(
        tracker,
        rec,
        'ports_allocated',
        rec.ports.map((b) => `${b.name}=${b.hostIp}:${b.hostPort}`).join(', ') || 'no published ports',
      );
      const handle = await this.runtime.start(
        {
          nodeId: this.opts.nodeId,
          slotId: spec.slotId,
          deploymentId: spec.deploymentId,
          customerId: spec.customerId,
          agentTypeId: spec.agentTypeId,
          agentVersion: spec.agentVersion,
          image: spec.image,
          entrypoint: spec.entrypoint,
          command: spec.command,
          env: spec.env,
          user: spec.user,
          workingDir: spec.workingDir,
          published: rec.ports,
          containerPorts: rec.containerPorts,
          health: spec.health,
          resources: spec.resources,
          dataMountPath: spec.dataMountPath,
          files: spec.files ?? [],
          readOnlyRootfs: spec.readOnlyRootfs,
          capAdd: spec.capAdd,
          restartMaxRetries: this.opts.restartMaxRetries,
        },
        (phase, message) => this.progress(tracker, rec, phase, message),
      );
      rec.handle = { ...handle, image: spec.image };
      this.setState(rec, 'starting', 'container started; waiting for health');
      this.progress(
        tracker,
        rec,
        'starting',
        rec.health
          ? `probing ${rec.health.path} on ${rec.health.portName}`
          : 'no health check: running counts as healthy',
      );
      this.startProbing(rec, true, tracker);
      const end = await tracker.finished();
      timer({ result: end.state === 'healthy' ? 'healthy' : 'failed' });
    } catch (e) {
      const msg = errorMessage(e);
      this.log.warn('deploy failed', { slot: spec.slotId, deployment: spec.deploymentId, error: msg });
      const why = `deploy failed: ${msg}`;
      await this.failAndClean(rec, why).catch(() => undefined);
      this.pool.release(ports, spec.deploymentId);
      this.progress(tracker, rec, 'failed', why, true, 'failed');
      timer({ result: 'failed' });
    }
  }

  private followExisting(t: DeploymentTracker, rec: SlotRecord): void {
    this.progress(
      t,
      rec,
      'already_exists',
      `deployment ${rec.deploymentId} already exists on this node (state ${rec.state})`,
      rec.state !== 'starting' && rec.state !== 'creating',
    );
    if (t.done) return;
    const onState = (r: SlotRecord) => {
      if (r.slotId !== rec.slotId) return;
      if (
        r.state === 'healthy' ||
        r.state === 'failed' ||
        r.state === 'stopped' ||
        r.state === 'unhealthy' ||
        this.slots.get(rec.slotId) !== rec
      ) {
        this.events.off('state', onState);
        if (r !== rec || this.slots.get(rec.slotId) !== rec)
          this.progress(t, rec, 'failed', `deployment ${rec.deploymentId} was replaced or terminated`, true, 'failed');
        else this.progress(t, r, r.state, r.message, true);
      }
    };
    this.events.on('state', onState);
  }

  private progress(
    t: DeploymentTracker,
    rec: SlotRecord,
    phase: string,
    message: string,
    final = false,
    state: NodeSlotState = rec.state,
  ): void {
    t.push({
      deploymentId: t.deploymentId,
      slotId: t.slotId,
      phase,
      state,
      message,
      atMs: Date.now(),
      final,
      slot: rec,
    });
  }

  /** Ends a slot as failed: its container and network go, its ports come back; data volumes stay. */
  private async failAndClean(rec: SlotRecord, message: string): Promise<void> {
    this.stopProbing(rec);
    const handle = rec.handle;
    rec.handle = undefined;
    this.pool.releaseOwner(rec.deploymentId);
    this.setState(rec, 'failed', message);
    try {
      await this.runtime.destroy(
        handle ?? { containerId: names.container(this.opts.nodeId, rec.slotId), slotId: rec.slotId },
      );
    } catch (e) {
      this.log.warn('cleanup after failure incomplete; the reaper will retry', {
        slot: rec.slotId,
        error: errorMessage(e),
      });
    }
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

  private emitState(rec: SlotRecord, prev: NodeSlotState | 'terminated'): void {
    this.events.emit('state', rec, prev);
    this.updateMetrics();
  }

  // ---- health probing -------------------------------------------------------------------

  startProbing(rec: SlotRecord, deploying: boolean, tracker?: DeploymentTracker): void {
    this.stopProbing(rec);
    rec.probe = { startedAtMs: Date.now(), failures: 0, everHealthy: false, deploying };
    const tick = async () => {
      if (this.slots.get(rec.slotId) !== rec || this.stopped) return;
      try {
        await this.probeOnce(rec, tracker);
      } catch (e) {
        this.log.debug('probe error', { slot: rec.slotId, error: errorMessage(e) });
      }
      if (
        this.slots.get(rec.slotId) === rec &&
        !this.stopped &&
        (rec.state === 'starting' || rec.state === 'healthy' || rec.state === 'unhealthy') &&
        rec.handle
      ) {
        rec.probe.timer = setTimeout(tick, rec.health?.intervalMs ?? 2000);
      }
    };
    rec.probe.timer = setTimeout(tick, rec.health ? Math.min(500, rec.health.intervalMs) : 200);
  }

  stopProbing(rec: SlotRecord): void {
    if (rec.probe.timer) clearTimeout(rec.probe.timer);
    rec.probe.timer = undefined;
  }

  private async probeOnce(rec: SlotRecord, tracker?: DeploymentTracker): Promise<void> {
    const handle = rec.handle;
    if (!handle) return;
    const h = rec.health;
    let ok: boolean;
    let why: string;
    const published = h ? rec.ports.find((p) => p.name === h.portName) : undefined;
    let status: Awaited<ReturnType<ContainerRuntime['inspect']>> | undefined;
    if (!h || !published || rec.probe.failures > 0 || !rec.probe.containerIp) {
      status = await this.runtime.inspect(handle);
      if (!status) return this.containerGone(rec, tracker);
      rec.restartCount = status.restartCount;
      rec.oomKilled = status.oomKilled;
      rec.probe.containerIp = status.ip;
      if (!status.running && (status.state === 'exited' || status.state === 'dead')) {
        return this.containerExited(rec, status.exitCode, status.oomKilled, tracker);
      }
    }
    if (!h) {
      ok = status?.running ?? false;
      why = ok ? 'running' : `container ${status?.state}`;
    } else {
      const host = published
        ? published.hostIp === '0.0.0.0'
          ? '127.0.0.1'
          : published.hostIp === '::'
            ? '::1'
            : published.hostIp
        : rec.probe.containerIp;
      const port = published
        ? published.hostPort
        : rec.containerPorts.find((p) => p.name === h.portName)?.containerPort;
      if (!host || !port) {
        ok = false;
        why = 'container has no address yet';
      } else {
        const r = await httpProbe(host, port, h.path, h.timeoutMs);
        this.metrics.probeDuration.observe({ result: r.ok ? 'ok' : 'fail' }, r.durationMs / 1000);
        ok = r.ok;
        why = r.ok ? `HTTP ${r.status}` : r.status ? `HTTP ${r.status}` : (r.error ?? 'no answer');
      }
    }
    if (this.slots.get(rec.slotId) !== rec || rec.handle !== handle) return;
    rec.lastProbeAtMs = Date.now();
    if (ok) {
      rec.probe.failures = 0;
      rec.probe.everHealthy = true;
      this.setState(rec, 'healthy', `healthy (${why})`);
      if (tracker && !tracker.done) this.progress(tracker, rec, 'healthy', rec.message, true, 'healthy');
      return;
    }
    const inStartPeriod =
      !rec.probe.everHealthy && Date.now() - rec.probe.startedAtMs < (h?.startPeriodMs ?? 0);
    if (inStartPeriod) {
      if (tracker && !tracker.done) this.progress(tracker, rec, 'probe', `not ready yet (${why})`);
      return;
    }
    rec.probe.failures++;
    const threshold = h?.failureThreshold ?? 3;
    if (rec.probe.failures < threshold) return;
    if (rec.probe.deploying && !rec.probe.everHealthy) {
      const msg = `never became healthy: ${why} after the ${h?.startPeriodMs ?? 0} ms start period and ${threshold} failed probes`;
      await this.failAndClean(rec, msg);
      if (tracker && !tracker.done) this.progress(tracker, rec, 'failed', msg, true, 'failed');
      return;
    }
    this.setState(rec, 'unhealthy', `${rec.probe.failures} failed probes (${why})`);
  }

  private async containerExited(
    rec: SlotRecord,
    exitCode: number,
    oom: boolean,
    tracker?: DeploymentTracker,
  ): Promise<void> {
    const why = `container exited with code ${exitCode}${oom ? ' (out of memory)' : ''}`;
    if (rec.stoppedByUs) {
      this.stopProbing(rec);
      this.setState(rec, 'stopped', 'stopped');
      return;
    }
    if (rec.probe.deploying && !rec.probe.everHealthy) {
      const msg = `never became healthy: ${why}`;
      await this.failAndClean(rec, msg);
      if (tracker && !tracker.done) this.progress(tracker, rec, 'failed', msg, true, 'failed');
      return;
    }
    // The restart policy gave up: keep the container (logs) and its ports; the coordinator decides.
    this.stopProbing(rec);
    this.setState(rec, 'failed', `${why}; restart policy gave up after ${rec.restartCount} restarts`);
  }

  private containerGone(rec: SlotRecord, tracker?: DeploymentTracker): void {
    this.stopProbing(rec);
    rec.handle = undefined;
    this.pool.releaseOwner(rec.deploymentId);
    this.setState(rec, 'failed', 'container disappeared');
    if (tracker && !tracker.done) this.progress(tracker, rec, 'failed', rec.message, true, 'failed');
  }

  /** Called by the reconciler on a container event or resync. */
  async refresh(slotId: string): Promise<void> {
    const rec = this.slots.get(slotId);
    if (!rec?.handle || rec.state === 'creating') return;
    const handle = rec.handle;
    const status = await this.runtime.inspect(handle);
    // While we waited, a deploy's prober may have failed the slot and removed this container (or
    // a new deployment took the slot). An answer about it must not resurrect the record: that
    // once turned a crashed deploy's final event into STARTING ("container running again").
    if (this.slots.get(slotId) !== rec || rec.handle !== handle) return;
    if (!status) return this.containerGone(rec);
    rec.restartCount = status.restartCount;
    rec.oomKilled = rec.oomKilled || status.oomKilled;
    if (status.running) {
      if (rec.state === 'stopped' || rec.state === 'failed') {
        rec.stoppedByUs = false;
        this.setState(rec, 'starting', 'container running again');
        this.startProbing(rec, false);
      } else if (!rec.probe.timer) this.startProbing(rec, false);
      return;
    }
    if (status.state === 'restarting') {
      if (rec.state === 'healthy')
        this.setState(
          rec,
          'unhealthy',
          `container restarting (restart ${status.restartCount})${status.oomKilled ? ' after running out of memory' : ''}`,
        );
      return;
    }
    if (status.state === 'exited' || status.state === 'dead' || status.state === 'created') {
      if (rec.probe.deploying && !rec.probe.everHealthy && rec.probe.timer) return; // the deploy's prober decides
      await this.containerExited(rec, status.exitCode, status.oomKilled);
    }
  }

  // ---- commands ------------------------------------------------------------------------

  private async exclusive<T>(rec: SlotRecord, fn: () => Promise<T>): Promise<T> {
    const prev = rec.busy ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    rec.busy = next.catch(() => undefined);
    return next;
  }

  private withContainer(slotId: string) {
    this.requireReady();
    const rec = this.get(slotId);
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
      this.stopProbing(rec);
      await this.runtime.stop(rec.handle!);
      this.setState(rec, 'stopped', 'stopped by the coordinator');
      return rec;
    });
  }

  async start(slotId: string): Promise<SlotRecord> {
    const rec = this.withContainer(slotId);
    return this.exclusive(rec, async () => {
      rec.stoppedByUs = false;
      await this.runtime.resume(rec.handle!);
      this.setState(rec, 'starting', 'started; waiting for health');
      this.startProbing(rec, false);
      return rec;
    });
  }

  async restart(slotId: string): Promise<SlotRecord> {
    const rec = this.withContainer(slotId);
    return this.exclusive(rec, async () => {
      rec.stoppedByUs = false;
      this.stopProbing(rec);
      await this.runtime.restart(rec.handle!);
      this.setState(rec, 'starting', 'restarted; waiting for health');
      this.startProbing(rec, false);
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
      const cap = this.capacity();
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
      this.updateMetrics();
      this.log.info('resources updated', { slot: slotId, ...resources });
      return rec;
    });
  }

  async terminate(slotId: string, purgeData = false): Promise<SlotRecord> {
    this.requireReady();
    const rec = this.get(slotId);
    const t = this.trackers.get(rec.deploymentId);
    if (t && !t.done) await t.finished(); // let an in-flight deploy end (or fail) first
    return this.exclusive(rec, async () => {
      this.stopProbing(rec);
      await this.runtime.destroy(
        rec.handle ?? { containerId: names.container(this.opts.nodeId, rec.slotId), slotId },
        { purgeData },
      );
      rec.handle = undefined;
      this.pool.releaseOwner(rec.deploymentId);
      if (this.slots.get(slotId) === rec) this.slots.delete(slotId);
      const prev = rec.state;
      rec.message = purgeData ? 'terminated; data purged' : 'terminated; data kept';
      this.log.info('slot terminated', { slot: slotId, deployment: rec.deploymentId, purgeData });
      this.emitState(rec, prev);
      this.events.emit('terminated', rec, prev);
      return rec;
    });
  }

  logs(slotId: string, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    const rec = this.get(slotId);
    if (!rec.handle) throw new FailedPreconditionError(`slot ${slotId} has no container`);
    return this.runtime.logs(rec.handle, opts, signal);
  }

  /** Adopts a container found at startup or resync (see slot.reconciler.ts). */
  adopt(rec: SlotRecord, running: boolean): void {
    this.slots.set(rec.slotId, rec);
    for (const p of rec.ports) this.pool.markUsed(p.hostPort, rec.deploymentId);
    this.emitState(rec, 'creating');
    if (running) this.startProbing(rec, false);
  }

  shutdown(): void {
    this.stopped = true;
    for (const r of this.slots.values()) this.stopProbing(r);
  }
}
