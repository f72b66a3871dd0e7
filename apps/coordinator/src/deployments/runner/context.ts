// What every step of the runner shares: its collaborators, its stop flag and its queue.
import type { CustomImagesService } from '../../custom-images/custom-images.service';
import type { ImageDigestsService } from '../../images/image-digests.service';
import type { RegistryCredentialsService } from '../../images/registry-credentials.service';
import type { NodesRepository } from '../../nodes/nodes.repository';
import type { PlacementService } from '../../scheduler/placement.service';
import type { DeploymentBus } from '../deployment-bus';
import type { DeploymentsRepository, DeploymentRecord } from '../deployments.repository';
import type { DeploymentsConfig } from '../deployments.config';
import type { NodeGateway } from '../node-gateway';
import type { SlotSpecBuilder } from '../slot-spec.builder';
import type { SlotKeys } from '../slot-keys';

export const DEPLOY_KINDS = new Set(['deploy', 'switch', 'rollback', 'move', 'reschedule']);

/** The DeploymentRunner's collaborators, handed to each step (runner/*.ts). */
export interface RunnerContext {
  readonly repo: DeploymentsRepository;
  /** Frees a slot's room on a node (terminate, the old node after a move). */
  readonly nodeRoom: NodesRepository;
  readonly builder: SlotSpecBuilder;
  readonly keys: SlotKeys;
  readonly nodes: NodeGateway;
  readonly placement: PlacementService;
  readonly bus: DeploymentBus;
  readonly config: DeploymentsConfig;
  /** Registry credentials a deploy's image pull carries. */
  readonly credentials: RegistryCredentialsService;
  /** The digests deployments ran, and a tag's drift. */
  readonly digests: ImageDigestsService;
  /** Images customers name: the allow list, the slot's own credentials, the size limit. */
  readonly customImages: CustomImagesService;
  /** True once the application shuts down: retries and polls give up early. */
  stopping(): boolean;
  /** Queues a deployment behind any other work on the same slot. */
  submit(d: Pick<DeploymentRecord, 'id' | 'slot_id'>): Promise<void>;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
