import type { ServiceError } from '@grpc/grpc-js';
import { FailureReason, type NodeAgentClient, type PullImageEvent } from '@berth/proto';
import type { RegistryAuth } from '../images/registry-credentials.service';

/** How a pre-pull ended on one node, in our own terms. */
export type ImagePullOutcome =
  | { ok: true; digest: string; cached: boolean }
  | { ok: false; reason: 'image_not_found' | 'registry_auth' | 'registry_unreachable' | 'image_too_large' | 'image_pull' | 'node_unavailable'; message: string };

/**
 * The two node calls the pre-pull makes. The gRPC implementation is below; unit specs use the
 * deployments' FakeNodeGateway, which implements them too. Neither throws: a failure is an outcome.
 */
export interface NodeImageCalls {
  /** PullImage, followed to its final event. */
  pullImage(nodeId: string, image: string, registryAuth?: RegistryAuth): Promise<ImagePullOutcome>;
  /** SetKeptImages: the whole list the node must keep cached. Throws when the node cannot be told. */
  setKeptImages(nodeId: string, images: string[]): Promise<void>;
}

export const NODE_IMAGE_CALLS = Symbol('NodeImageCalls');

const REASONS: Partial<Record<FailureReason, Exclude<ImagePullOutcome, { ok: true }>['reason']>> = {
  [FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND]: 'image_not_found',
  [FailureReason.FAILURE_REASON_REGISTRY_AUTH]: 'registry_auth',
  [FailureReason.FAILURE_REASON_REGISTRY_UNREACHABLE]: 'registry_unreachable',
  [FailureReason.FAILURE_REASON_IMAGE_TOO_LARGE]: 'image_too_large',
  [FailureReason.FAILURE_REASON_IMAGE_PULL]: 'image_pull',
};

/** The final PullImage event as an outcome. */
export function pullOutcome(ev: PullImageEvent): ImagePullOutcome {
  if (ev.ok) return { ok: true, digest: ev.digest, cached: ev.cached };
  return { ok: false, reason: REASONS[ev.failureReason] ?? 'image_pull', message: ev.message || `the node could not pull ${ev.image}` };
}

const errorText = (e: unknown) => (e as Partial<ServiceError>).details || (e as Error).message || String(e);

/** NodeImageCalls over gRPC; `clientFor` comes from the fleet (pinned TLS + node token; throws when the node is down). */
export class GrpcNodeImageCalls implements NodeImageCalls {
  constructor(private readonly clientFor: (nodeId: string) => NodeAgentClient) {}

  async pullImage(nodeId: string, image: string, registryAuth?: RegistryAuth): Promise<ImagePullOutcome> {
    let client: NodeAgentClient;
    try {
      client = this.clientFor(nodeId);
    } catch (e) {
      return { ok: false, reason: 'node_unavailable', message: errorText(e) };
    }
    return new Promise((resolve) => {
      let final: ImagePullOutcome | undefined;
      const stream = client.pullImage({ image, ...(registryAuth ? { registryAuth } : {}) });
      stream.on('data', (ev: PullImageEvent) => {
        if (ev.final) final = pullOutcome(ev);
      });
      stream.on('error', (e) => resolve(final ?? { ok: false, reason: 'node_unavailable', message: `node ${nodeId}: ${errorText(e)}` }));
      stream.on('end', () => resolve(final ?? { ok: false, reason: 'node_unavailable', message: `node ${nodeId}: the pull stream ended before its final event` }));
    });
  }

  async setKeptImages(nodeId: string, images: string[]): Promise<void> {
    const client = this.clientFor(nodeId);
    await new Promise<void>((resolve, reject) => {
      client.setKeptImages({ images }, (err) => (err ? reject(new Error(`node ${nodeId}: ${errorText(err)}`)) : resolve()));
    });
  }
}
