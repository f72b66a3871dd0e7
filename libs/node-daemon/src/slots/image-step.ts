/**
 * A deploy's first step: its image ready on the node (cached, or pulled through the image
 * service) before anything is taken or replaced, so a switch whose image cannot be pulled leaves
 * the running agent alone. Reported as `image_pull` events (with the pull's progress) and one
 * `image_ready` event saying cached or pulled, with the digest, which the slot record keeps.
 */
import type { SlotDeploySpec } from '@berth/domain';
import { formatBytes } from '../images/image-errors';
import type { EnsuredImage, EnsureOptions, ImageService } from '../images/image.service';
import type { PullProgress } from '../images/pull-progress';
import type { RegistryCredentials } from '../runtime/container-runtime';
import { DeploymentTracker, progress } from './deployment-tracker';
import type { SlotRecord } from './slot-record';

export async function ensureDeployImage(
  images: ImageService,
  run: { spec: SlotDeploySpec; rec: SlotRecord; tracker: DeploymentTracker; auth?: RegistryCredentials; image?: EnsureOptions },
): Promise<void> {
  const { spec, rec, tracker } = run;
  const startedAt = Date.now();
  const ready = await images.ensure(
    spec.image,
    run.auth,
    (pull) => progress(tracker, rec, 'image_pull', pullMessage(spec.image, pull), false, rec.state, { pull }),
    run.image,
  );
  rec.imageDigest = ready.digest || undefined;
  progress(tracker, rec, 'image_ready', readyMessage(ready, Date.now() - startedAt));
}

function pullMessage(image: string, p: PullProgress): string {
  if (!p.layersTotal) return `pulling ${image}`;
  return `pulling ${image}: ${p.layersDone}/${p.layersTotal} layers, ${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
}

function readyMessage(r: EnsuredImage, ms: number): string {
  const digest = r.digest || 'no registry digest: built on this node';
  return r.cached
    ? `image ${r.image} cached on this node (${digest})`
    : `image ${r.image} pulled in ${(ms / 1000).toFixed(1)} s (${digest})`;
}
