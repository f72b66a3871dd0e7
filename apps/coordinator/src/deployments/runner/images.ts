// Images: how a deploy's image is pulled (whose credentials, how large it may be), and the digest it ran there (with a tag's drift).
import type { SlotDeploySpec } from '@berth/domain';
import type { RegistryAuth } from '../../images/registry-credentials.service';
import type { DeploymentRecord, SlotRuntime } from '../deployments.repository';
import type { ImagePullPolicy, NodeSlot } from '../node-gateway';
import type { RunnerContext } from './context';

/** What a Deploy carries for its image: credentials, and for an image a customer named the size limit and always-pull. */
export interface DeployImagePull {
  auth?: RegistryAuth;
  policy?: ImagePullPolicy;
}

/**
 * How the node pulls the deploy's image. The image the platform chose for the agent type (catalogue
 * or admin pin) goes with the operator's stored credentials for its registry. An image a customer
 * named (the custom agent) never does (that would let anyone pull the operator's private images):
 * it goes with the slot's own registry credentials, if it stored any, no larger than
 * BERTH_CUSTOM_IMAGE_MAX_BYTES, and asked of the registry even when the node has it.
 */
export async function imagePullFor(ctx: RunnerContext, d: DeploymentRecord, slot: Pick<SlotRuntime, 'id' | 'customer_id'>, spec: SlotDeploySpec): Promise<DeployImagePull> {
  if (await ctx.builder.isPlatformImage(d.desired.agent_type_id, spec.image)) {
    const auth = await ctx.credentials.authFor(spec.image);
    return auth ? { auth } : {};
  }
  const pull = await ctx.customImages.pullFor(slot, spec.image);
  return { ...(pull.auth ? { auth: pull.auth } : {}), policy: { maxImageBytes: pull.maxImageBytes, alwaysPull: pull.alwaysPull } };
}

/** Before anything is placed: an image a customer named must come from a registry the operator allows (still). */
export async function checkCustomerImage(ctx: RunnerContext, d: DeploymentRecord, spec: SlotDeploySpec): Promise<void> {
  if (!(await ctx.builder.isPlatformImage(d.desired.agent_type_id, spec.image))) ctx.customImages.requireAllowed(spec.image);
}

/** `repository@sha256:...` (or a bare digest) -> `sha256:...`; null when the node knew none. */
export function digestOf(imageDigest: string | undefined): string | null {
  const digest = imageDigest?.slice(imageDigest.lastIndexOf('@') + 1);
  return digest && /^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest) ? digest : null;
}

/** Records the digest the node ran for this deployment; for a platform image, also checks the tag against its first digest. */
export async function recordImage(ctx: RunnerContext, d: DeploymentRecord, spec: SlotDeploySpec, result: NodeSlot): Promise<void> {
  const digest = digestOf(result.imageDigest);
  if (!digest) return;
  await ctx.repo.setImageDigest(d.id, digest);
  if (await ctx.builder.isPlatformImage(d.desired.agent_type_id, spec.image)) {
    await ctx.digests.record({ agentTypeId: d.desired.agent_type_id, image: spec.image, digest, deploymentId: d.id });
  }
}
