import { NotFoundError, UnavailableError, parseImageRef, type SlotDeploySpec, type SlotResources } from '@berth/domain';
import type { RegistryAuth } from '../images/registry-credentials.service';
import type { ImagePullOutcome, NodeImageCalls } from '../nodes/node-image-calls';
import type { ImageFailureReason, ImagePull, ImagePullPolicy, NodeDeployProgress, NodeGateway, NodeSlot } from './node-gateway';

/** What a fake node's pull of a deploy's image does: progress, then the digest or a failure. */
export type FakePull = { progress: ImagePull[]; digest: string } | { progress: ImagePull[]; failure: { reason: ImageFailureReason; message: string } };

/** `host/repository@sha256:...`, as a node reports the image it ran. */
const repoDigest = (image: string, digest: string) => {
  const ref = parseImageRef(image);
  return `${ref.registry}/${ref.repository}@${digest}`;
};

interface FakeSlot extends NodeSlot {
  spec: SlotDeploySpec;
  resources: SlotResources;
}

/** An in-memory fleet of node daemons for unit specs of the deployment flow (and of the pre-pull). */
export class FakeNodeGateway implements NodeGateway, NodeImageCalls {
  readonly nodes = new Map<string, Map<string, FakeSlot>>();
  readonly down = new Set<string>();
  readonly deployCalls: { nodeId: string; deploymentId: string; image: string; registryAuth?: RegistryAuth; pull?: ImagePullPolicy }[] = [];
  /** Deploys whose spec matches never become healthy. */
  failWhen: (spec: SlotDeploySpec) => boolean = () => false;
  /** The image pull a deploy makes (none by default: the image is on the node). */
  pullFor: (spec: SlotDeploySpec, auth?: RegistryAuth) => FakePull | undefined = () => undefined;
  /** Calls that fail with UNAVAILABLE before succeeding (per node). */
  flaky = new Map<string, number>();
  private nextPort = 20000;
  /** PullImage calls (pre-pulls), in order. */
  readonly pullImageCalls: { nodeId: string; image: string; registryAuth?: RegistryAuth }[] = [];
  /** The last SetKeptImages list each node received. */
  readonly keptImages = new Map<string, string[]>();
  /** Images each node has (after a successful PullImage). */
  readonly cachedImages = new Map<string, Set<string>>();
  /** How a PullImage ends (a digest derived from the image by default). */
  prePullFor: (nodeId: string, image: string, auth?: RegistryAuth) => ImagePullOutcome = (_n, image) => ({
    ok: true,
    digest: repoDigest(image, `sha256:${Buffer.from(image).toString('hex').padEnd(64, '0').slice(0, 64)}`),
    cached: false,
  });

  async pullImage(nodeId: string, image: string, registryAuth?: RegistryAuth): Promise<ImagePullOutcome> {
    this.pullImageCalls.push({ nodeId, image, ...(registryAuth ? { registryAuth } : {}) });
    try {
      this.node(nodeId);
    } catch (e) {
      return { ok: false, reason: 'node_unavailable', message: (e as Error).message };
    }
    const cached = this.cachedImages.get(nodeId)?.has(image) ?? false;
    const r = this.prePullFor(nodeId, image, registryAuth);
    if (r.ok) {
      let set = this.cachedImages.get(nodeId);
      if (!set) this.cachedImages.set(nodeId, (set = new Set()));
      set.add(image);
      return { ...r, cached };
    }
    return r;
  }

  async setKeptImages(nodeId: string, images: string[]): Promise<void> {
    this.node(nodeId);
    this.keptImages.set(nodeId, [...images]);
  }

  private node(nodeId: string): Map<string, FakeSlot> {
    if (this.down.has(nodeId)) throw new UnavailableError(`node ${nodeId}: connection refused`);
    const left = this.flaky.get(nodeId) ?? 0;
    if (left > 0) {
      this.flaky.set(nodeId, left - 1);
      throw new UnavailableError(`node ${nodeId}: flaky`);
    }
    let m = this.nodes.get(nodeId);
    if (!m) this.nodes.set(nodeId, (m = new Map()));
    return m;
  }

  async deploy(
    nodeId: string,
    spec: SlotDeploySpec,
    replace: boolean,
    onProgress: (p: NodeDeployProgress) => Promise<void>,
    registryAuth?: RegistryAuth,
    policy?: ImagePullPolicy,
  ): Promise<NodeSlot> {
    const slots = this.node(nodeId);
    this.deployCalls.push({ nodeId, deploymentId: spec.deploymentId, image: spec.image, ...(registryAuth ? { registryAuth } : {}), ...(policy && Object.keys(policy).length ? { pull: policy } : {}) });
    const existing = slots.get(spec.slotId);
    if (existing && existing.deploymentId === spec.deploymentId) return existing;
    if (existing && !replace) throw new Error('slot runs another deployment');
    const pull = this.pullFor(spec, registryAuth);
    for (const p of pull?.progress ?? []) await onProgress({ phase: 'image_pull', message: `pulling ${spec.image}`, state: 'creating', pull: p });
    if (pull && 'failure' in pull) {
      await onProgress({ phase: 'failed', message: pull.failure.message, state: 'failed', failureReason: pull.failure.reason });
      return { slotId: spec.slotId, deploymentId: spec.deploymentId, agentTypeId: spec.agentTypeId, state: 'failed', message: pull.failure.message, ports: [], oomKilled: false, failure: pull.failure };
    }
    if (pull) await onProgress({ phase: 'image_ready', message: `pulled ${spec.image} (${pull.digest})`, state: 'creating' });
    await onProgress({ phase: 'container_created', message: 'created', state: 'creating' });
    await onProgress({ phase: 'container_started', message: 'started', state: 'starting' });
    const healthy = !this.failWhen(spec);
    const s: FakeSlot = {
      slotId: spec.slotId,
      deploymentId: spec.deploymentId,
      agentTypeId: spec.agentTypeId,
      state: healthy ? 'healthy' : 'failed',
      message: healthy ? 'healthy' : 'never became healthy',
      ports: spec.ports.filter((p) => p.publish).map((p) => ({ name: p.name, containerPort: p.containerPort, hostIp: '127.0.0.1', hostPort: this.nextPort++ })),
      oomKilled: false,
      ...(pull ? { imageDigest: repoDigest(spec.image, pull.digest) } : {}),
      spec,
      resources: spec.resources,
    };
    if (healthy) slots.set(spec.slotId, s);
    else slots.delete(spec.slotId);
    await onProgress({ phase: healthy ? 'healthy' : 'failed', message: s.message, state: s.state });
    return s;
  }

  readonly purged: string[] = [];

  async terminate(nodeId: string, slotId: string, purgeData: boolean): Promise<void> {
    this.node(nodeId).delete(slotId);
    if (purgeData) this.purged.push(slotId);
  }

  async power(nodeId: string, slotId: string, action: 'stop' | 'start' | 'restart'): Promise<NodeSlot> {
    const s = this.node(nodeId).get(slotId);
    if (!s) throw new NotFoundError(`slot ${slotId} not on node ${nodeId}`);
    s.state = action === 'stop' ? 'stopped' : 'healthy';
    return s;
  }

  async updateResources(nodeId: string, slotId: string, resources: SlotResources): Promise<NodeSlot> {
    const s = this.node(nodeId).get(slotId);
    if (!s) throw new NotFoundError(`slot ${slotId} not on node ${nodeId}`);
    s.resources = resources;
    return s;
  }

  async listSlots(nodeId: string): Promise<NodeSlot[]> {
    return [...this.node(nodeId).values()];
  }

  async *logs(nodeId: string, slotId: string): AsyncIterable<Buffer> {
    if (!this.node(nodeId).has(slotId)) throw new NotFoundError('no such slot');
    yield Buffer.from(`logs of ${slotId}\n`);
  }

  /** Where a slot runs (tests). */
  whereIs(slotId: string): string[] {
    return [...this.nodes.entries()].filter(([, m]) => m.has(slotId)).map(([id]) => id);
  }
}
