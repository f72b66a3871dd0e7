// Images: the registry credentials a deploy carries to the node, and the digest it ran there (with a tag's drift).
import type { SlotDeploySpec } from '@berth/domain';
import type { RegistryAuth } from '../../images/registry-credentials.service';
import type { DeploymentRecord } from '../deployments.repository';
import type { NodeSlot } from '../node-gateway';
import type { RunnerContext } from './context';

/**
 * The stored credentials for the registry of the deploy's image. The operator's credentials go
 * only with the image the platform chose for the agent type (catalogue or admin pin), never with
 * an image a customer named (bring-your-own): that would let anyone pull the operator's private images.
 */
export async function registryAuthFor(ctx: RunnerContext, d: DeploymentRecord, spec: SlotDeploySpec): Promise<RegistryAuth | undefined> {
  if (!(await ctx.builder.isPlatformImage(d.desired.agent_type_id, spec.image))) return undefined;
  return ctx.credentials.authFor(spec.image);
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
