import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { ContainerRuntime, LabelledContainer } from '../runtime/container-runtime';
import { SlotRecord } from './slot-record';
import { SlotService } from './slot.service';

export interface ReconcilerOptions {
  resyncMs: number;
  reapGraceMs: number;
  reapDryRun: boolean;
}

/**
 * Kubelet-style: adopts labelled containers at start, reacts to Docker events, resyncs on a timer.
 * Never garbage-collects before the first full sync; a reaper dry-run only logs and counts.
 * Docker being down is survived: everything retries with backoff.
 */
export class SlotReconciler {
  private readonly abort = new AbortController();
  private resyncTimer?: NodeJS.Timeout;
  private firstSync?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly slots: SlotService,
    private readonly metrics: NodeMetrics,
    private readonly opts: ReconcilerOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the loops; resolves after the first full sync (which retries until Docker answers). */
  start(): Promise<void> {
    this.firstSync = this.syncWithBackoff();
    void this.firstSync.then(() => {
      if (this.stopped) return;
      void this.watchEvents();
      this.scheduleResync();
    });
    return this.firstSync;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
  }

  private async syncWithBackoff(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        await this.sync();
        return;
      } catch (e) {
        this.slots.dockerUp = false;
        this.slots.updateMetrics();
        this.log.warn('Docker not reachable; retrying', { error: errorMessage(e), retryInMs: delay });
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.resyncTimer = setTimeout(async () => {
      try {
        await this.sync();
      } catch (e) {
        this.slots.dockerUp = false;
        this.slots.updateMetrics();
        this.log.warn('resync failed; Docker not reachable?', { error: errorMessage(e) });
      }
      this.scheduleResync();
    }, this.opts.resyncMs);
  }

  private async watchEvents(): Promise<void> {
    let delay = 500;
    while (!this.stopped) {
      try {
        for await (const ev of this.runtime.events(this.abort.signal)) {
          delay = 500;
          const slotId = ev.slotId ?? this.slotOf(ev.containerId);
          if (
            slotId &&
            (ev.type === 'die' ||
              ev.type === 'start' ||
              ev.type === 'oom' ||
              ev.type === 'stop' ||
              ev.type === 'destroy')
          ) {
            await this.slots
              .refresh(slotId)
              .catch((e) => this.log.debug('refresh failed', { slot: slotId, error: errorMessage(e) }));
          }
        }
      } catch (e) {
        if (this.stopped) return;
        this.log.warn('Docker event stream broke; reconnecting', {
          error: errorMessage(e),
          retryInMs: delay,
        });
      }
      if (this.stopped) return;
      await sleep(delay, this.abort.signal);
      delay = Math.min(delay * 2, 30_000);
      // Catch up on anything missed while disconnected.
      await this.sync().catch(() => undefined);
    }
  }

  private slotOf(containerId: string): string | undefined {
    for (const r of this.slots.slots.values()) if (r.handle?.containerId === containerId) return r.slotId;
    return undefined;
  }

  /** One full pass: info, list, adopt, refresh, reap. */
  async sync(): Promise<void> {
    const info = await this.runtime.info();
    this.slots.setHostTotals(info.memoryBytes, info.nanoCpus);
    this.slots.dockerUp = true;
    const found = await this.runtime.list();
    const orphans: LabelledContainer[] = [];
    const bySlot = new Map<string, LabelledContainer[]>();
    for (const c of found) {
      if (!c.handle) orphans.push(c);
      else bySlot.set(c.handle.slotId, [...(bySlot.get(c.handle.slotId) ?? []), c]);
    }
    for (const [slotId, cs] of bySlot) {
      const known = this.slots.slots.get(slotId);
      // One container per slot: the one we know, else the running/newest one; the rest are orphans.
      const keep =
        cs.find((c) => c.containerId === known?.handle?.containerId) ??
        [...cs].sort((a, b) => rank(b) - rank(a) || b.createdAtMs - a.createdAtMs)[0];
      orphans.push(...cs.filter((c) => c !== keep));
      if (known && (known.state === 'creating' || known.handle?.containerId === keep.containerId)) {
        if (known.handle) await this.slots.refresh(slotId).catch(() => undefined);
        continue;
      }
      if (known && known.deploymentId !== keep.handle!.deploymentId && known.state !== 'failed') {
        orphans.push(keep);
        continue;
      }
      if (known && known.deploymentId === keep.handle!.deploymentId && known.state === 'failed') {
        // The listing is older than the failure: that deploy already removed this container and
        // gave its ports back. Adopting it would take the ports again (seen as a flaky port count).
        orphans.push(keep);
        continue;
      }
      this.slots.adopt(toRecord(keep), keep.state === 'running' || keep.state === 'restarting');
      this.log.info('adopted container', {
        slot: slotId,
        deployment: keep.handle!.deploymentId,
        container: keep.containerId.slice(0, 12),
        state: keep.state,
      });
    }
    // Slots whose container vanished behind our back.
    for (const rec of this.slots.slots.values()) {
      if (rec.handle && !found.some((c) => c.containerId === rec.handle!.containerId))
        await this.slots.refresh(rec.slotId).catch(() => undefined);
    }
    this.slots.synced = true; // garbage collection only from here on
    this.slots.updateMetrics();
    await this.reap(orphans);
  }

  private async reap(orphans: LabelledContainer[]): Promise<void> {
    const now = Date.now();
    for (const o of orphans) {
      if (now - o.createdAtMs < this.opts.reapGraceMs) continue;
      if ([...this.slots.slots.values()].some((r) => r.handle?.containerId === o.containerId)) continue;
      this.metrics.reaped.inc({ kind: 'container', dry_run: String(this.opts.reapDryRun) });
      this.log.warn(
        this.opts.reapDryRun ? 'would reap orphan container (dry run)' : 'reaping orphan container',
        { container: o.containerId.slice(0, 12), slot: o.labels['berth.slot'] },
      );
      if (!this.opts.reapDryRun)
        await this.runtime
          .removeContainer(o.containerId)
          .catch((e) => this.log.warn('reap failed', { error: errorMessage(e) }));
    }
    for (const n of await this.runtime.listSlotNetworks()) {
      if (n.containers > 0 || now - n.createdAtMs < this.opts.reapGraceMs) continue;
      const rec = this.slots.slots.get(n.slotId);
      if (rec && (rec.handle || rec.state === 'creating')) continue;
      this.metrics.reaped.inc({ kind: 'network', dry_run: String(this.opts.reapDryRun) });
      this.log.info(
        this.opts.reapDryRun ? 'would remove unused slot network (dry run)' : 'removing unused slot network',
        { slot: n.slotId },
      );
      if (!this.opts.reapDryRun) await this.runtime.removeNetwork(n.networkId).catch(() => undefined);
    }
  }
}

function rank(c: LabelledContainer): number {
  return c.state === 'running' ? 3 : c.state === 'restarting' ? 2 : c.state === 'exited' ? 1 : 0;
}

function toRecord(c: LabelledContainer): SlotRecord {
  const h = c.handle!;
  const running = c.state === 'running' || c.state === 'restarting';
  return {
    slotId: h.slotId,
    deploymentId: h.deploymentId,
    customerId: h.customerId,
    agentTypeId: h.agentTypeId,
    agentVersion: h.agentVersion,
    image: c.labels['berth.image'] ?? '',
    imageDigest: h.imageDigest,
    state: running ? 'starting' : 'stopped',
    message: running
      ? 'adopted after a daemon restart; probing'
      : `adopted after a daemon restart; container ${c.state}`,
    ports: h.published,
    containerPorts: h.containerPorts,
    health: h.health,
    resources: h.resources,
    handle: h,
    restartCount: 0,
    oomKilled: false,
    createdAtMs: h.createdAtMs,
    stateSinceMs: Date.now(),
    lastProbeAtMs: 0,
    probe: { startedAtMs: Date.now(), failures: 0, everHealthy: false, deploying: false },
    stoppedByUs: !running,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
