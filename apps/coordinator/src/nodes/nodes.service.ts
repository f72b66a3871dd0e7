import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConflictError, InvalidArgumentError, NotFoundError, UnauthenticatedError, UnavailableError } from '@berth/domain';
import { SecretsService } from '../secrets/secrets.service';
import { FleetService, nodeTokenAad } from './fleet.service';
import { NODE_TRANSPORT, normaliseFingerprint, type NodeTransport } from './node-connection';
import { NODES_CONFIG, type NodesConfig } from './nodes.config';
import { NodeImagesRepository, type NodeImageRecord, type NodeImageState } from './node-images.repository';
import { NodesRepository, type NodeListItem, type NodeRecord, type NodeStatus } from './nodes.repository';

/** What a daemon tells the coordinator about itself, whether it enrols or is the in-process one. */
export interface NodeRegistration {
  name: string;
  /** host:port of the daemon's gRPC endpoint, as the coordinator reaches it. */
  address: string;
  /** The fingerprint the daemon printed at boot (SHA-256 of its certificate). */
  fingerprintSha256: string;
  allocatableMemoryMb?: number;
  allocatableCpuMillis?: number;
  portRangeFrom?: number;
  portRangeTo?: number;
  publicHost?: string;
}

export interface EnrolRequest extends NodeRegistration {
  joinToken: string;
  labels?: Record<string, string>;
  agentVersion?: string;
}

export interface LocalNodeRegistration extends NodeRegistration {
  /** The token the in-process daemon already requires (NodeAgentHandle.token). */
  token: string;
}

/** What the admin list answers for one node (snake_case, like every API answer). */
export interface NodeView {
  id: string;
  name: string;
  address: string;
  status: NodeStatus;
  reachable: boolean;
  last_heartbeat_at: string | null;
  capacity: {
    allocatable_memory_mb: number;
    allocatable_cpu_millis: number;
    allocated_memory_mb: number;
    allocated_cpu_millis: number;
    free_memory_mb: number;
    free_cpu_millis: number;
  };
  reported: Record<string, unknown>;
  /** Disk the node's images take, as its last heartbeat said (null before one). */
  image_bytes: number | null;
  /** The catalogue images the node was asked to pre-pull, and how that went. */
  images: NodeImageView[];
  slot_count: number;
  port_range: { from: number; to: number };
  public_host: string | null;
  labels: Record<string, string>;
  tls_fingerprint_sha256: string | null;
  agent_version: string | null;
  created_at: string;
}

export interface NodeImageView {
  image: string;
  state: NodeImageState;
  /** repository@sha256:..., when present. */
  digest: string | null;
  /** When failed: image_not_found, registry_auth, registry_unreachable, image_too_large, image_pull or node_unavailable. */
  failure_reason: string | null;
  failure_message: string | null;
  updated_at: string;
}

const imageView = (r: NodeImageRecord): NodeImageView => ({
  image: r.image,
  state: r.state,
  digest: r.digest,
  failure_reason: r.failureReason,
  failure_message: r.failureMessage,
  updated_at: r.updatedAt.toISOString(),
});

const hashJoinToken = (t: string) => createHash('sha256').update(t).digest('hex');

/** Enrolment (join tokens, TOFU with fingerprint check, sealed node tokens) and the admin operations on nodes. */
@Injectable()
export class NodesService {
  private readonly log = new Logger('nodes');

  constructor(
    private readonly repo: NodesRepository,
    private readonly images: NodeImagesRepository,
    private readonly fleet: FleetService,
    private readonly secrets: SecretsService,
    @Inject(NODES_CONFIG) private readonly config: NodesConfig,
    @Inject(NODE_TRANSPORT) private readonly transport: NodeTransport,
  ) {}

  /** A single-use join token; answered once, stored as its sha256. */
  async createJoinToken(opts: { description?: string; ttlSeconds?: number } = {}, now = new Date()): Promise<{ id: string; join_token: string; expires_at: string; description: string | null }> {
    const token = `bjt_${randomBytes(32).toString('base64url')}`;
    const ttl = opts.ttlSeconds ?? this.config.joinTokenTtlSeconds;
    const rec = await this.repo.createJoinToken({ tokenHash: hashJoinToken(token), description: opts.description, expiresAt: new Date(now.getTime() + ttl * 1000) });
    return { id: rec.id, join_token: token, expires_at: rec.expiresAt.toISOString(), description: rec.description };
  }

  /**
   * A daemon enrols: the join token must be unused and unexpired; the certificate served at
   * `address` must have the fingerprint the daemon claims (so the coordinator pins what the
   * operator saw in the daemon's log, not whatever answers). Answers the node token once.
   */
  async enrol(req: EnrolRequest, now = new Date()): Promise<{ node_id: string; node_token: string }> {
    const tokenHash = hashJoinToken(req.joinToken);
    const jt = await this.repo.findJoinToken(tokenHash);
    if (!jt) throw new UnauthenticatedError('unknown join token');
    if (jt.usedAt) throw new UnauthenticatedError('this join token has already been used; create a new one');
    if (jt.expiresAt.getTime() <= now.getTime()) throw new UnauthenticatedError('this join token has expired; create a new one');
    if (await this.repo.getByName(req.name)) throw new ConflictError(`a node named ${req.name} is already enrolled`, { name: ['already enrolled'] });

    const fingerprint = await this.checkCertificate(req.address, req.fingerprintSha256);
    const nodeId = randomUUID();
    const nodeToken = randomBytes(32).toString('base64url');
    const sealed = this.secrets.seal(nodeToken, nodeTokenAad(nodeId));
    let node: NodeRecord | null;
    try {
      node = await this.repo.createWithJoinToken(tokenHash, now, {
        id: nodeId,
        name: req.name,
        address: req.address,
        certFingerprint: fingerprint,
        sealedToken: { ciphertext: sealed.ciphertext, iv: sealed.iv, tag: sealed.tag, keyId: sealed.key_id },
        allocatableMemoryMb: req.allocatableMemoryMb ?? 0,
        allocatableCpuMillis: req.allocatableCpuMillis ?? 0,
        portRangeFrom: req.portRangeFrom,
        portRangeTo: req.portRangeTo,
        publicHost: req.publicHost,
        labels: req.labels,
        agentVersion: req.agentVersion,
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') throw new ConflictError(`a node named ${req.name} is already enrolled`, { name: ['already enrolled'] });
      throw e;
    }
    if (!node) throw new UnauthenticatedError('this join token has just been used or has expired; create a new one');
    this.log.log(`node ${node.name} enrolled at ${node.address} (certificate ${fingerprint})`);
    await this.fleet.connect(node);
    return { node_id: node.id, node_token: nodeToken };
  }

  /**
   * The all-in-one `npm start`: registers the in-process daemon directly (no join token) with
   * the token it already requires. Re-registering the same name (a restart) updates the address,
   * certificate and token and keeps the node's id, status and reservations.
   */
  async registerLocalNode(r: LocalNodeRegistration): Promise<NodeRecord> {
    const fingerprint = await this.checkCertificate(r.address, r.fingerprintSha256);
    const existing = await this.repo.getByName(r.name);
    const nodeId = existing?.id ?? randomUUID();
    const s = this.secrets.seal(r.token, nodeTokenAad(nodeId));
    const sealedToken = { ciphertext: s.ciphertext, iv: s.iv, tag: s.tag, keyId: s.key_id };
    const node = existing
      ? await this.repo.updateIdentity(nodeId, { address: r.address, certFingerprint: fingerprint, sealedToken })
      : await this.repo.create({
          id: nodeId,
          name: r.name,
          address: r.address,
          certFingerprint: fingerprint,
          sealedToken,
          allocatableMemoryMb: r.allocatableMemoryMb ?? 0,
          allocatableCpuMillis: r.allocatableCpuMillis ?? 0,
          portRangeFrom: r.portRangeFrom,
          portRangeTo: r.portRangeTo,
          publicHost: r.publicHost,
        });
    this.log.log(`local node ${node.name} registered at ${node.address}`);
    await this.fleet.connect(node);
    return node;
  }

  async list(): Promise<NodeView[]> {
    const [nodes, images] = await Promise.all([this.repo.listWithSlotCounts(), this.images.list()]);
    return nodes.map((n) => this.view(n, images.filter((i) => i.nodeId === n.id)));
  }

  async get(nodeId: string): Promise<NodeView> {
    const all = await this.repo.listWithSlotCounts();
    const n = all.find((x) => x.id === nodeId);
    if (!n) throw new NotFoundError(`no node ${nodeId}`);
    return this.view(n, await this.images.list([n.id]));
  }

  /** No new slots go to the node; node_draining tells the deployment flow to move its slots. */
  async drain(nodeId: string): Promise<NodeView> {
    const node = await this.mustGet(nodeId);
    if (node.status !== 'draining') {
      await this.repo.setStatus(nodeId, 'draining');
      this.log.log(`node ${node.name} draining`);
    }
    this.fleet.statusChanged(nodeId, 'draining');
    return this.get(nodeId);
  }

  /** Back to placement: `up` when it is speaking, else `down` until it does. */
  async undrain(nodeId: string): Promise<NodeView> {
    const node = await this.mustGet(nodeId);
    if (node.status === 'draining') {
      const status: NodeStatus = this.fleet.isReachable(nodeId) ? 'up' : 'down';
      await this.repo.setStatus(nodeId, status, ['draining']);
      this.fleet.statusChanged(nodeId, status);
      this.log.log(`node ${node.name} undrained (${status})`);
    }
    return this.get(nodeId);
  }

  private async mustGet(nodeId: string): Promise<NodeRecord> {
    const n = await this.repo.get(nodeId);
    if (!n) throw new NotFoundError(`no node ${nodeId}`);
    return n;
  }

  /** TOFU: fetch the certificate served at `address` and require the claimed fingerprint. Returns the canonical form. */
  private async checkCertificate(address: string, claimed: string): Promise<string> {
    let cert: { pem: string; fingerprintSha256: string };
    try {
      cert = await this.transport.fetchCertificate(address);
    } catch (e) {
      throw new UnavailableError(`cannot reach the node daemon at ${address} to read its certificate: ${(e as Error).message}`);
    }
    if (normaliseFingerprint(cert.fingerprintSha256) !== normaliseFingerprint(claimed)) {
      throw new InvalidArgumentError('the certificate served at address does not have this fingerprint', {
        tls_fingerprint_sha256: [`does not match the certificate served at ${address}`],
      });
    }
    return cert.fingerprintSha256;
  }

  private view(n: NodeListItem, images: NodeImageRecord[]): NodeView {
    return {
      id: n.id,
      name: n.name,
      address: n.address,
      status: n.status,
      reachable: this.fleet.isReachable(n.id),
      last_heartbeat_at: n.lastHeartbeatAt?.toISOString() ?? null,
      capacity: {
        allocatable_memory_mb: n.allocatableMemoryMb,
        allocatable_cpu_millis: n.allocatableCpuMillis,
        allocated_memory_mb: n.allocatedMemoryMb,
        allocated_cpu_millis: n.allocatedCpuMillis,
        free_memory_mb: Math.max(0, n.allocatableMemoryMb - n.allocatedMemoryMb),
        free_cpu_millis: Math.max(0, n.allocatableCpuMillis - n.allocatedCpuMillis),
      },
      reported: n.reported,
      image_bytes: typeof n.reported.image_bytes === 'number' ? n.reported.image_bytes : null,
      images: images.map(imageView),
      slot_count: n.slotCount,
      port_range: { from: n.portRangeFrom, to: n.portRangeTo },
      public_host: n.publicHost,
      labels: n.labels,
      tls_fingerprint_sha256: n.certFingerprint,
      agent_version: n.agentVersion,
      created_at: n.createdAt.toISOString(),
    };
  }
}
