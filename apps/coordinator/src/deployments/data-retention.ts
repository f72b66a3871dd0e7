import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeploymentsRepository } from './deployments.repository';
import { DEPLOYMENTS_CONFIG, type DeploymentsConfig } from './deployments.config';
import { NODE_GATEWAY, type NodeGateway } from './node-gateway';

const SWEEP_MS = 60 * 60 * 1000;

/**
 * A terminated slot's data volumes stay on its node for BERTH_DATA_RETENTION_DAYS, then they
 * are purged (Terminate with purge_data). After the purge the slot no longer names a node.
 * A node that cannot be reached is tried again at the next sweep.
 */
@Injectable()
export class DataRetention implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(DataRetention.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly repo: DeploymentsRepository,
    @Inject(NODE_GATEWAY) private readonly nodes: NodeGateway,
    @Inject(DEPLOYMENTS_CONFIG) private readonly config: DeploymentsConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((e: Error) => this.log.warn(`retention sweep: ${e.message}`)), SWEEP_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Purges what is past retention at `now`; returns the slots purged. */
  async sweep(now = new Date()): Promise<string[]> {
    const cutoff = new Date(now.getTime() - this.config.BERTH_DATA_RETENTION_DAYS * 86_400_000);
    const purged: string[] = [];
    for (const s of await this.repo.terminatedBefore(cutoff)) {
      try {
        await this.nodes.terminate(s.node_id, s.id, true);
        await this.repo.updateSlot(s.id, { node_id: null });
        purged.push(s.id);
      } catch (e) {
        this.log.warn(`slot ${s.id}: data purge on node ${s.node_id} deferred: ${(e as Error).message}`);
      }
    }
    if (purged.length) this.log.log(`purged the data of ${purged.length} terminated slot(s)`);
    return purged;
  }
}
