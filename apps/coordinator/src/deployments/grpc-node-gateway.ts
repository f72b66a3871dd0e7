import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import {
  FailureReason,
  type DeployEvent,
  type NodeAgentClient,
  type Slot as ProtoSlot,
  fromProtoPortBinding,
  fromProtoSlotState,
  toProtoDeploySpec,
  toProtoResources,
} from '@berth/proto';
import {
  CapacityExhaustedError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  type SlotDeploySpec,
  type SlotResources,
} from '@berth/domain';
import type { RegistryAuth } from '../images/registry-credentials.service';
import type { ImageFailureReason, ImagePullPolicy, NodeDeployProgress, NodeGateway, NodeSlot } from './node-gateway';

/** gRPC status -> domain error: the one place the coordinator maps them. */
export function fromGrpcError(e: unknown, nodeId: string): DomainError {
  if (e instanceof DomainError) return e;
  const err = e as Partial<ServiceError>;
  const msg = `node ${nodeId}: ${err.details || err.message || String(e)}`;
  switch (err.code) {
    case GrpcStatus.INVALID_ARGUMENT:
      return new InvalidArgumentError(msg);
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError(msg);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new CapacityExhaustedError(msg);
    case GrpcStatus.FAILED_PRECONDITION:
    case GrpcStatus.ALREADY_EXISTS:
      return new FailedPreconditionError(msg);
    default:
      return new UnavailableError(msg);
  }
}

export function fromProtoSlot(s: ProtoSlot): NodeSlot {
  return {
    slotId: s.slotId,
    deploymentId: s.deploymentId,
    agentTypeId: s.agentTypeId,
    state: fromProtoSlotState(s.state) ?? 'failed',
    message: s.message,
    ports: s.ports.map(fromProtoPortBinding),
    oomKilled: s.oomKilled,
    ...(s.imageDigest ? { imageDigest: s.imageDigest } : {}),
  };
}

const FAILURE_REASONS: Partial<Record<FailureReason, ImageFailureReason>> = {
  [FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND]: 'image_not_found',
  [FailureReason.FAILURE_REASON_REGISTRY_AUTH]: 'registry_auth',
  [FailureReason.FAILURE_REASON_REGISTRY_UNREACHABLE]: 'registry_unreachable',
  [FailureReason.FAILURE_REASON_IMAGE_TOO_LARGE]: 'image_too_large',
  [FailureReason.FAILURE_REASON_IMAGE_PULL]: 'image_pull',
  [FailureReason.FAILURE_REASON_IMAGE_OVER_LIMIT]: 'image_over_limit',
};

/** A Deploy stream's event as progress, in our own terms. */
export function fromProtoDeployEvent(ev: DeployEvent): NodeDeployProgress {
  const p = ev.pull;
  const reason = FAILURE_REASONS[ev.failureReason];
  return {
    phase: ev.phase,
    message: ev.message,
    state: fromProtoSlotState(ev.state),
    ...(p ? { pull: { layersDone: p.layersDone, layersTotal: p.layersTotal, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal } } : {}),
    ...(reason ? { failureReason: reason } : {}),
  };
}

/**
 * The last event of a Deploy stream as its result; undefined when it carries no slot and no reason.
 * A failure the node could name (an image it could not pull) keeps its reason and the event's sentence.
 */
export function deployResult(ev: DeployEvent): NodeSlot | undefined {
  const reason = FAILURE_REASONS[ev.failureReason];
  if (!ev.slot && !reason) return undefined;
  const slot: NodeSlot = ev.slot
    ? fromProtoSlot(ev.slot)
    : { slotId: ev.slotId, deploymentId: ev.deploymentId, agentTypeId: '', state: 'failed', message: ev.message, ports: [], oomKilled: false };
  return reason ? { ...slot, failure: { reason, message: ev.message || slot.message } } : slot;
}

type Unary<Req> = (req: Req, cb: (err: ServiceError | null, res: ProtoSlot) => void) => unknown;

/** NodeGateway over gRPC; `clientFor` comes from the fleet (pinned TLS + node token). */
export class GrpcNodeGateway implements NodeGateway {
  constructor(private readonly clientFor: (nodeId: string) => NodeAgentClient) {}

  /** The node's client, or the domain error saying why there is none (unknown, down, not connected). */
  private client(nodeId: string): NodeAgentClient {
    try {
      return this.clientFor(nodeId);
    } catch (e) {
      throw fromGrpcError(e, nodeId);
    }
  }

  private async unary<Req>(nodeId: string, call: (c: NodeAgentClient) => Unary<Req>, req: Req): Promise<NodeSlot> {
    const client = this.client(nodeId);
    return new Promise((resolve, reject) => {
      call(client).call(client, req, (err, res) => (err ? reject(fromGrpcError(err, nodeId)) : resolve(fromProtoSlot(res))));
    });
  }

  async deploy(
    nodeId: string,
    spec: SlotDeploySpec,
    replace: boolean,
    onProgress: (p: NodeDeployProgress) => Promise<void>,
    registryAuth?: RegistryAuth,
    pull: ImagePullPolicy = {},
  ): Promise<NodeSlot> {
    const client = this.client(nodeId);
    return new Promise((resolve, reject) => {
      const stream = client.deploy({
        spec: toProtoDeploySpec(spec),
        replace,
        registryAuth,
        ...(pull.maxImageBytes ? { maxImageBytes: pull.maxImageBytes } : {}),
        ...(pull.alwaysPull ? { alwaysPull: true } : {}),
      });
      let final: NodeSlot | undefined;
      let chain = Promise.resolve();
      stream.on('data', (ev: DeployEvent) => {
        chain = chain.then(() => onProgress(fromProtoDeployEvent(ev)).catch(() => undefined));
        if (ev.final) final = deployResult(ev);
      });
      stream.on('error', (err) => reject(fromGrpcError(err, nodeId)));
      stream.on('end', () => {
        void chain.then(() =>
          final ? resolve(final) : reject(new UnavailableError(`node ${nodeId}: deploy stream ended before the final event`)),
        );
      });
    });
  }

  async terminate(nodeId: string, slotId: string, purgeData: boolean): Promise<void> {
    try {
      await this.unary(nodeId, (c) => c.terminate as Unary<{ slotId: string; purgeData: boolean }>, { slotId, purgeData });
    } catch (e) {
      if (e instanceof NotFoundError) return; // already gone: terminate is idempotent
      throw e;
    }
  }

  power(nodeId: string, slotId: string, action: 'stop' | 'start' | 'restart'): Promise<NodeSlot> {
    return this.unary(nodeId, (c) => c[action] as Unary<{ slotId: string }>, { slotId });
  }

  updateResources(nodeId: string, slotId: string, resources: SlotResources): Promise<NodeSlot> {
    return this.unary(nodeId, (c) => c.updateResources as Unary<unknown>, { slotId, resources: toProtoResources(resources) });
  }

  async listSlots(nodeId: string): Promise<NodeSlot[]> {
    const client = this.client(nodeId);
    return new Promise((resolve, reject) => {
      client.listSlots({}, (err, res) => (err ? reject(fromGrpcError(err, nodeId)) : resolve(res.slots.map(fromProtoSlot))));
    });
  }

  async *logs(nodeId: string, slotId: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<Buffer> {
    const stream = this.client(nodeId).streamLogs({ slotId, tail: opts.tail, follow: opts.follow, sinceMs: 0 });
    const cancel = () => stream.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const chunk of stream as AsyncIterable<{ data: Buffer }>) yield Buffer.from(chunk.data);
    } catch (e) {
      if ((e as ServiceError).code === GrpcStatus.CANCELLED) return;
      throw fromGrpcError(e, nodeId);
    } finally {
      opts.signal?.removeEventListener('abort', cancel);
    }
  }
}
