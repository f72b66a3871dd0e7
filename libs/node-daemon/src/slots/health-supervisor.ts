/**
 * Health supervision of running slots: HTTP probes on a timer, container exits, a container that
 * disappeared, and the reconciler's refresh after a Docker event or resync. It moves slots between
 * starting, healthy, unhealthy and failed, and ends a deploy's tracker once its container is
 * healthy or never will be. The rest of the slot service sees only `SlotHealth`.
 */
import { httpProbe } from '../health/http-probe';
import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { ContainerRuntime } from '../runtime/container-runtime';
import { DeploymentTracker, progress } from './deployment-tracker';
import { withLastLogLines } from './last-log-lines';
import { SlotRecord } from './slot-record';
import { SlotTable } from './slot-table';

/** What the deploy sequence and the lifecycle commands ask of health supervision. */
export interface SlotHealth {
  /**
   * Starts watching a slot's container (replacing any earlier watch). `deploying`: failing before
   * the first healthy answer fails the slot; `tracker` gets the deploy's final event.
   */
  startProbing(rec: SlotRecord, deploying: boolean, tracker?: DeploymentTracker): void;
  stopProbing(rec: SlotRecord): void;
  /** Called by the reconciler on a container event or resync. */
  refresh(slotId: string): Promise<void>;
  /** Shutdown: stops watching every slot. */
  stopAll(): void;
}

/** Ends a slot as failed and removes its container (the deploy sequence's cleanup). */
export type FailAndClean = (rec: SlotRecord, message: string) => Promise<void>;

export class HealthSupervisor implements SlotHealth {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly table: SlotTable,
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
    private readonly failAndClean: FailAndClean,
  ) {}

  startProbing(rec: SlotRecord, deploying: boolean, tracker?: DeploymentTracker): void {
    this.stopProbing(rec);
    rec.probe = { startedAtMs: Date.now(), failures: 0, everHealthy: false, deploying };
    const tick = async () => {
      if (this.table.slots.get(rec.slotId) !== rec || this.table.stopped) return;
      try {
        await this.probeOnce(rec, tracker);
      } catch (e) {
        this.log.debug('probe error', { slot: rec.slotId, error: errorMessage(e) });
      }
      if (
        this.table.slots.get(rec.slotId) === rec &&
        !this.table.stopped &&
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

  stopAll(): void {
    for (const r of this.table.slots.values()) this.stopProbing(r);
  }

  private async probeOnce(rec: SlotRecord, tracker?: DeploymentTracker): Promise<void> {
    const handle = rec.handle;
    if (!handle) return;
    const h = rec.health;
    let ok: boolean;
    let why: string;
    const published = h ? rec.ports.find((p) => p.name === h.portName) : undefined;
    let status: Awaited<ReturnType<ContainerRuntime['inspect']>> | undefined;
    // A failed probe (in the start period too) makes the next one look at the container: one that
    // exited (a crash loop the restart policy gave up on) fails the deploy at once, with its last log
    // lines, instead of after the whole start period.
    if (!h || !published || rec.probe.failures > 0 || rec.probe.recheck || !rec.probe.containerIp) {
      rec.probe.recheck = false;
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
    if (this.table.slots.get(rec.slotId) !== rec || rec.handle !== handle) return;
    rec.lastProbeAtMs = Date.now();
    if (ok) {
      rec.probe.failures = 0;
      rec.probe.everHealthy = true;
      this.table.setState(rec, 'healthy', `healthy (${why})`);
      if (tracker && !tracker.done) progress(tracker, rec, 'healthy', rec.message, true, 'healthy');
      return;
    }
    const inStartPeriod =
      !rec.probe.everHealthy && Date.now() - rec.probe.startedAtMs < (h?.startPeriodMs ?? 0);
    if (inStartPeriod) {
      rec.probe.recheck = true;
      if (tracker && !tracker.done) progress(tracker, rec, 'probe', `not ready yet (${why})`);
      return;
    }
    rec.probe.failures++;
    const threshold = h?.failureThreshold ?? 3;
    if (rec.probe.failures < threshold) return;
    if (rec.probe.deploying && !rec.probe.everHealthy) {
      const msg = await withLastLogLines(
        this.runtime,
        rec.handle,
        `never became healthy: ${why} after the ${h?.startPeriodMs ?? 0} ms start period and ${threshold} failed probes`,
      );
      await this.failAndClean(rec, msg);
      if (tracker && !tracker.done) progress(tracker, rec, 'failed', msg, true, 'failed');
      return;
    }
    this.table.setState(rec, 'unhealthy', `${rec.probe.failures} failed probes (${why})`);
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
      this.table.setState(rec, 'stopped', 'stopped');
      return;
    }
    if (rec.probe.deploying && !rec.probe.everHealthy) {
      const msg = await withLastLogLines(this.runtime, rec.handle, `never became healthy: ${why}`);
      await this.failAndClean(rec, msg);
      if (tracker && !tracker.done) progress(tracker, rec, 'failed', msg, true, 'failed');
      return;
    }
    // The restart policy gave up: keep the container (logs) and its ports; the coordinator decides.
    this.stopProbing(rec);
    this.table.setState(rec, 'failed', `${why}; restart policy gave up after ${rec.restartCount} restarts`);
  }

  private containerGone(rec: SlotRecord, tracker?: DeploymentTracker): void {
    this.stopProbing(rec);
    rec.handle = undefined;
    this.table.pool.releaseOwner(rec.deploymentId);
    this.table.setState(rec, 'failed', 'container disappeared');
    if (tracker && !tracker.done) progress(tracker, rec, 'failed', rec.message, true, 'failed');
  }

  /** Called by the reconciler on a container event or resync. */
  async refresh(slotId: string): Promise<void> {
    const rec = this.table.slots.get(slotId);
    if (!rec?.handle || rec.state === 'creating') return;
    const handle = rec.handle;
    const status = await this.runtime.inspect(handle);
    // While we waited, a deploy's prober may have failed the slot and removed this container (or
    // a new deployment took the slot). An answer about it must not resurrect the record: that
    // once turned a crashed deploy's final event into STARTING ("container running again").
    if (this.table.slots.get(slotId) !== rec || rec.handle !== handle) return;
    if (!status) return this.containerGone(rec);
    rec.restartCount = status.restartCount;
    rec.oomKilled = rec.oomKilled || status.oomKilled;
    if (status.running) {
      if (rec.state === 'stopped' || rec.state === 'failed') {
        rec.stoppedByUs = false;
        this.table.setState(rec, 'starting', 'container running again');
        this.startProbing(rec, false);
      } else if (!rec.probe.timer) this.startProbing(rec, false);
      return;
    }
    if (status.state === 'restarting') {
      if (rec.state === 'healthy')
        this.table.setState(
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
}
