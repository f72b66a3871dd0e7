import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';

export type NodeImageState = 'pulling' | 'present' | 'failed';

/** One node's copy of one pre-pulled image (table node_images). */
export interface NodeImageRecord {
  nodeId: string;
  image: string;
  state: NodeImageState;
  digest: string | null;
  failureReason: string | null;
  failureMessage: string | null;
  updatedAt: Date;
}

type Row = { node_id: string; image: string; state: string; digest: string | null; failure_reason: string | null; failure_message: string | null; updated_at: Date };

const toRecord = (r: Row): NodeImageRecord => ({
  nodeId: r.node_id,
  image: r.image,
  state: r.state as NodeImageState,
  digest: r.digest,
  failureReason: r.failure_reason,
  failureMessage: r.failure_message,
  updatedAt: r.updated_at,
});

/** What each node has of the images it was asked to pre-pull. */
@Injectable()
export class NodeImagesRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** A pull was asked for. An image already present stays `present` (the node answers from its cache). */
  async markPulling(nodeId: string, image: string): Promise<void> {
    await this.db.prisma.$executeRaw`
      INSERT INTO node_images (node_id, image, state, updated_at) VALUES (${nodeId}::uuid, ${image}, 'pulling', now())
      ON CONFLICT (node_id, image) DO UPDATE SET state = 'pulling', failure_reason = NULL, failure_message = NULL, updated_at = now()
      WHERE node_images.state <> 'present'`;
  }

  async markPresent(nodeId: string, image: string, digest: string): Promise<void> {
    await this.db.prisma.nodeImage.upsert({
      where: { node_id_image: { node_id: nodeId, image } },
      create: { node_id: nodeId, image, state: 'present', digest },
      update: { state: 'present', digest, failure_reason: null, failure_message: null, updated_at: new Date() },
    });
  }

  async markFailed(nodeId: string, image: string, reason: string, message: string): Promise<void> {
    await this.db.prisma.nodeImage.upsert({
      where: { node_id_image: { node_id: nodeId, image } },
      create: { node_id: nodeId, image, state: 'failed', failure_reason: reason, failure_message: message },
      update: { state: 'failed', digest: null, failure_reason: reason, failure_message: message, updated_at: new Date() },
    });
  }

  /** Rows of the given nodes (every node when omitted), by node then image. */
  async list(nodeIds?: string[]): Promise<NodeImageRecord[]> {
    const rows = await this.db.prisma.nodeImage.findMany({ where: nodeIds ? { node_id: { in: nodeIds } } : {}, orderBy: [{ node_id: 'asc' }, { image: 'asc' }] });
    return rows.map(toRecord);
  }
}
