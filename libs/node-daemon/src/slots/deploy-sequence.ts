/**
 * The deploy sequence: admits a Deploy (idempotent by deployment id, refused when it does not
 * fit), then runs its steps (the image, image-step.ts; prepare: remove a replaced deployment, take
 * host ports; create and start the container; wait for health) and cleans up when any step fails.
 * Also owns the deployment trackers and `failAndClean`, the one way a slot ends failed with its
 * container gone.
 */
import {
  FailedPreconditionError,
  InvalidArgumentError,
  SlotDeploySpec,
  SlotPortBinding,
  slotIdentity,
  validateDeploySpec,
} from '@berth/domain';
import { ImagePullError } from '../images/image-errors';
import { pinnedRef } from '../images/image-refs';
import type { EnsureOptions, ImageService } from '../images/image.service';
import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { ContainerRuntime, names, RegistryCredentials } from '../runtime/container-runtime';
import { DeployProgress, DeploymentTracker, followExisting, progress } from './deployment-tracker';
import type { SlotHealth } from './health-supervisor';
import { ensureDeployImage } from './image-step';
import { holdsResources, newDeployRecord, SlotRecord } from './slot-record';
import { SlotTable } from './slot-table';

export interface DeployOptions {
  nodeId: string;
  publishIp: string;
  restartMaxRetries: number;
}

/** One admitted deployment on its way through the steps. */
interface DeployRun {
  spec: SlotDeploySpec;
  rec: SlotRecord;
  tracker: DeploymentTracker;
  /** The slot's previous deployment, removed in prepare. */
  replacing?: SlotRecord;
  /** Host ports taken from the pool; given back if a later step fails. */
  ports: number[];
  /** For pulling spec.image; held for this deployment only. */
  auth?: RegistryCredentials;
  /** How the image is made ready (an image a customer named: always pulled, size-limited). */
  image?: EnsureOptions;
  /** Host ports it will take once its image is ready (counted as taken by later admissions). */
  portsPending: number;
}

export class DeploySequence {
  private readonly trackers = new Map<string, DeploymentTracker>();
  /** Ports admitted deployments will take but have not yet (their image is being made ready). */
  private portsPending = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly table: SlotTable,
    private readonly health: SlotHealth,
    private readonly metrics: NodeMetrics,
    private readonly opts: DeployOptions,
    private readonly log: Logger,
    private readonly images: ImageService,
  ) {}

  /** The tracker of a deployment this daemon ran or followed since it started. */
  tracker(deploymentId: string): DeploymentTracker | undefined {
    return this.trackers.get(deploymentId);
  }

  /**
   * Starts (or, for a known deployment id, finds) a deployment. Everything that can refuse it is
   * checked synchronously here, so two concurrent calls cannot both pass the capacity check.
   */
  deploy(spec: SlotDeploySpec, replace = false, auth?: RegistryCredentials, image?: EnsureOptions): DeploymentTracker {
    validateDeploySpec(spec);
    pinnedRef(spec.image);
    this.table.requireReady();
    const known = this.trackers.get(spec.deploymentId);
    if (known) {
      if (known.slotId !== spec.slotId)
        throw new InvalidArgumentError(`deployment ${spec.deploymentId} belongs to slot ${known.slotId}`);
      return known;
    }
    const current = this.table.slots.get(spec.slotId);
    if (current && current.deploymentId === spec.deploymentId) {
      // Adopted after a restart: the container exists; report it, never make a second one.
      const t = new DeploymentTracker(spec.deploymentId, spec.slotId);
      this.trackers.set(spec.deploymentId, t);
      followExisting(t, current, this.table);
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
    this.table.requireRoom(spec, this.opts.nodeId, replacing, this.portsPending);

    const rec = newDeployRecord(spec);
    const tracker = new DeploymentTracker(spec.deploymentId, spec.slotId);
    this.trackers.set(spec.deploymentId, tracker);
    this.table.slots.set(spec.slotId, rec);
    this.table.emitState(rec, replacing?.state ?? 'creating');
    progress(tracker, rec, 'accepted', `deployment ${spec.deploymentId} accepted`);
    this.log.info('deploy accepted', {
      slot: spec.slotId,
      deployment: spec.deploymentId,
      agentType: spec.agentTypeId,
      image: spec.image,
      replacing: replacing?.deploymentId,
    });
    const portsPending = spec.ports.filter((p) => p.publish).length;
    this.portsPending += portsPending;
    void this.runDeploy({ spec, rec, tracker, replacing, ports: [], auth, image, portsPending });
    return tracker;
  }

  /** The steps of an admitted deployment; any failure ends it failed with nothing left behind. */
  private async runDeploy(run: DeployRun): Promise<void> {
    const timer = this.metrics.deployDuration.startTimer();
    try {
      await ensureDeployImage(this.images, run);
      run.auth = undefined; // used for this pull only
    } catch (e) {
      this.failImage(run, e);
      timer({ result: 'failed' });
      return;
    }
    try {
      await this.prepare(run);
      await this.createAndStart(run);
      const end = await this.untilHealthy(run);
      timer({ result: end.state === 'healthy' ? 'healthy' : 'failed' });
    } catch (e) {
      await this.cleanUpFailed(run, e);
      timer({ result: 'failed' });
    }
  }

  /**
   * The image step failed: nothing was taken, made or replaced yet. The deployment ends failed with
   * the reason; a replaced deployment gets its slot back, still running.
   */
  private failImage(run: DeployRun, e: unknown): void {
    const { spec, rec, tracker, replacing } = run;
    this.settlePorts(run);
    const failureReason = e instanceof ImagePullError ? e.reason : 'image_pull';
    const why = errorMessage(e);
    this.log.info('deploy failed: image not ready', {
      slot: spec.slotId,
      deployment: spec.deploymentId,
      reason: failureReason,
      error: why,
    });
    this.table.setState(rec, 'failed', why);
    if (replacing && this.table.slots.get(spec.slotId) === rec) {
      this.table.slots.set(spec.slotId, replacing);
      this.table.emitState(replacing, 'creating');
      if (replacing.handle && ['starting', 'healthy', 'unhealthy'].includes(replacing.state))
        this.health.startProbing(replacing, false);
    }
    progress(tracker, rec, 'failed', why, true, 'failed', { failureReason });
  }

  /**
   * Step 1, prepare: the replaced deployment (if any) goes first, its data volume kept, so its
   * ports come back; then host ports for the published container ports.
   */
  private async prepare(run: DeployRun): Promise<void> {
    const { spec, rec, tracker, replacing } = run;
    if (replacing) {
      this.health.stopProbing(replacing);
      if (replacing.handle) await this.runtime.destroy(replacing.handle);
      this.table.pool.releaseOwner(replacing.deploymentId);
      progress(
        tracker,
        rec,
        'replaced',
        `previous deployment ${replacing.deploymentId} removed (its data volume is kept)`,
      );
    }
    const published = spec.ports.filter((p) => p.publish);
    this.settlePorts(run);
    run.ports = await this.table.pool.allocate(published.length, spec.deploymentId);
    rec.ports = published.map((p, i): SlotPortBinding => ({
      name: p.name,
      containerPort: p.containerPort,
      hostIp: this.opts.publishIp,
      hostPort: run.ports[i],
    }));
    progress(
      tracker,
      rec,
      'ports_allocated',
      rec.ports.map((b) => `${b.name}=${b.hostIp}:${b.hostPort}`).join(', ') || 'no published ports',
    );
  }

  /** Step 2, create and start: the runtime makes the network, volume and container and starts it. */
  private async createAndStart({ spec, rec, tracker }: DeployRun): Promise<void> {
    const handle = await this.runtime.start(
      {
        nodeId: this.opts.nodeId,
        ...slotIdentity(spec),
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
        imageDigest: rec.imageDigest,
      },
      (phase, message) => progress(tracker, rec, phase, message),
    );
    rec.handle = { ...handle, image: spec.image, imageDigest: rec.imageDigest };
    this.table.setState(rec, 'starting', 'container started; waiting for health');
  }

  /** Step 3, wait for health: the health supervisor probes and ends the tracker (healthy or failed). */
  private untilHealthy({ rec, tracker }: DeployRun): Promise<DeployProgress> {
    progress(
      tracker,
      rec,
      'starting',
      rec.health
        ? `probing ${rec.health.path} on ${rec.health.portName}`
        : 'no health check: running counts as healthy',
    );
    this.health.startProbing(rec, true, tracker);
    return tracker.finished();
  }

  /** The run's pending ports stop counting (it takes them now, or never). */
  private settlePorts(run: DeployRun): void {
    this.portsPending -= run.portsPending;
    run.portsPending = 0;
  }

  /** A step threw: remove what was made, give the ports back, end the deployment failed. */
  private async cleanUpFailed(run: DeployRun, e: unknown): Promise<void> {
    const { spec, rec, tracker, ports } = run;
    this.settlePorts(run);
    const msg = errorMessage(e);
    this.log.warn('deploy failed', { slot: spec.slotId, deployment: spec.deploymentId, error: msg });
    const why = `deploy failed: ${msg}`;
    await this.failAndClean(rec, why).catch(() => undefined);
    this.table.pool.release(ports, spec.deploymentId);
    progress(tracker, rec, 'failed', why, true, 'failed');
  }

  /** Ends a slot as failed: its container and network go, its ports come back; data volumes stay. */
  async failAndClean(rec: SlotRecord, message: string): Promise<void> {
    this.health.stopProbing(rec);
    const handle = rec.handle;
    rec.handle = undefined;
    this.table.pool.releaseOwner(rec.deploymentId);
    this.table.setState(rec, 'failed', message);
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
}
