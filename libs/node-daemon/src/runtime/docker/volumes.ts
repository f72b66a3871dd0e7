/**
 * Slot data volumes: one per slot and agent type, created on deploy, kept on terminate and agent
 * switch, and removed only when a slot's data is purged.
 */
import type Docker from 'dockerode';
import { LABELS } from '../container-runtime';
import { nodeLabel } from './labels';

export class DockerVolumes {
  constructor(
    private readonly docker: Docker,
    private readonly nodeId: string,
  ) {}

  async create(volumeName: string, labels: Record<string, string>): Promise<void> {
    await this.docker.createVolume({ Name: volumeName, Labels: labels });
  }

  /** Removes every data volume of the slot on this node (all agent types). */
  async removeForSlot(slotId: string): Promise<void> {
    const vols =
      (
        await this.docker.listVolumes({
          filters: JSON.stringify({
            label: [`${LABELS.slot}=${slotId}`, nodeLabel(this.nodeId)],
          }),
        })
      ).Volumes ?? [];
    for (const v of vols) await this.docker.getVolume(v.Name).remove();
  }
}
