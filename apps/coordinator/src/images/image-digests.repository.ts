import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';

export interface ImageDigestRecord {
  image: string;
  /** The first digest deployed under `image`. */
  digest: string;
  first_seen_at: Date;
  /** The last other digest a deployment ran under the same reference, and when it was first seen. */
  changed_to: string | null;
  changed_at: Date | null;
}

/** Which digest each deployed image reference named (table image_digests). */
@Injectable()
export class ImageDigestsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /**
   * Records that `image` ran as `digest`: the first digest of a reference is kept; another one is
   * noted as its change. `changed` is true only for the call that noted a digest not noted before
   * (concurrent deployments report a change once).
   */
  async record(image: string, digest: string): Promise<{ record: ImageDigestRecord; changed: boolean }> {
    const db = this.db.prisma;
    await db.imageDigest.createMany({ data: [{ image, digest }], skipDuplicates: true });
    const { count } = await db.imageDigest.updateMany({
      where: { image, digest: { not: digest }, OR: [{ changed_to: null }, { changed_to: { not: digest } }] },
      data: { changed_to: digest, changed_at: new Date() },
    });
    return { record: await db.imageDigest.findUniqueOrThrow({ where: { image } }), changed: count > 0 };
  }

  async forImages(images: string[]): Promise<ImageDigestRecord[]> {
    return this.db.prisma.imageDigest.findMany({ where: { image: { in: images } } });
  }
}
