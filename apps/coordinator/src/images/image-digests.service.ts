import { Injectable, Logger } from '@nestjs/common';
import { AuditRepository } from '../audit/audit.repository';
import { ImageDigestsRepository } from './image-digests.repository';

/** What the admin sees of an agent type's image: the digest it first ran, and whether its tag moved since. */
export interface AgentImageFacts {
  image_digest: string | null;
  image_digest_changed: { from: string; to: string; at: string } | null;
}

export interface ImageRun {
  agentTypeId: string;
  /** The reference deployed (the agent type's pinned image). */
  image: string;
  /** sha256:... */
  digest: string;
  deploymentId: string;
}

/**
 * Pins and drift. Every deployment of an agent type's image records the digest it ran; a tag
 * that later names another digest than the one first deployed is reported to the admin (a
 * warning in the log, an audit event, and `image_digest_changed` on the agent type), never
 * run as if nothing changed. A reference by digest cannot move (a node reporting otherwise would be reported too).
 */
@Injectable()
export class ImageDigestsService {
  private readonly log = new Logger('images');

  constructor(
    private readonly repo: ImageDigestsRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** Records a run; answers the change when this run is the first to find the tag moved. */
  async record(run: ImageRun): Promise<{ from: string; to: string } | null> {
    const { record, changed } = await this.repo.record(run.image, run.digest);
    if (!changed) return null;
    const change = { from: record.digest, to: run.digest };
    this.log.warn(`image ${run.image} of agent type '${run.agentTypeId}' now names ${change.to}, not ${change.from} as when first deployed; pin a digest to choose`);
    await this.audit.record({
      actor: 'system',
      action: 'agent_type.image_digest_changed',
      target_type: 'agent_type',
      target_id: run.agentTypeId,
      data: { image: run.image, ...change, deployment_id: run.deploymentId },
    });
    return change;
  }

  /** Each agent type with the facts about the image it pins now. */
  async forAgentTypes<T extends { base_image: string | null }>(agents: T[]): Promise<(T & AgentImageFacts)[]> {
    const images = agents.map((a) => a.base_image).filter((i): i is string => !!i);
    const byImage = new Map((await this.repo.forImages(images)).map((r) => [r.image, r]));
    return agents.map((a) => {
      const r = a.base_image ? byImage.get(a.base_image) : undefined;
      return {
        ...a,
        image_digest: r?.digest ?? null,
        image_digest_changed: r?.changed_to && r.changed_at ? { from: r.digest, to: r.changed_to, at: r.changed_at.toISOString() } : null,
      };
    });
  }
}
