/**
 * Slot networks: one bridge per slot with inter-container traffic off, created idempotently,
 * removed with the slot, and listed so the reaper can find the ones an interrupted deploy left.
 */
import type Docker from 'dockerode';
import { LABELS, names } from '../container-runtime';
import { retryTransientEngineError, unlessStatus } from './errors';
import { nodeLabel } from './labels';

export class DockerNetworks {
  constructor(
    private readonly docker: Docker,
    private readonly nodeId: string,
  ) {}

  /** Creates the slot's bridge network (ICC off); one that exists already is fine. */
  async create(networkName: string, labels: Record<string, string>): Promise<void> {
    await retryTransientEngineError(() =>
      this.docker
        .createNetwork({
          Name: networkName,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: labels,
          Options: { 'com.docker.network.bridge.enable_icc': 'false' },
        })
        // 409: it exists already, a redeploy or a retried deploy (or our own first try, answered late).
        .catch(unlessStatus(409)),
    );
  }

  /** Removes the slot's network of this node, if there is one. */
  async removeForSlot(slotId: string): Promise<void> {
    const networkName = names.network(this.nodeId, slotId);
    const nets = await this.docker.listNetworks({
      filters: JSON.stringify({ name: [networkName], label: [nodeLabel(this.nodeId)] }),
    });
    for (const n of nets.filter((n) => n.Name === networkName)) await this.remove(n.Id);
  }

  async remove(networkId: string): Promise<void> {
    // 404: gone already.
    await retryTransientEngineError(() => this.docker.getNetwork(networkId).remove().catch(unlessStatus(404)));
  }

  async list(): Promise<{ networkId: string; slotId: string; createdAtMs: number; containers: number }[]> {
    const nets = await this.docker.listNetworks({
      filters: JSON.stringify({ label: [nodeLabel(this.nodeId)] }),
    });
    const out = [];
    for (const n of nets) {
      const full = await this.docker
        .getNetwork(n.Id)
        .inspect()
        .catch(() => undefined);
      if (!full) continue;
      out.push({
        networkId: n.Id,
        slotId: n.Labels?.[LABELS.slot] ?? '',
        createdAtMs: Date.parse(n.Created ?? '') || 0,
        containers: Object.keys(full.Containers ?? {}).length,
      });
    }
    return out;
  }
}
