import { Injectable } from '@nestjs/common';
import { FailedPreconditionError, NotFoundError, parseImageRef } from '@berth/domain';
import { SecretsService } from '../secrets/secrets.service';
import { RegistryCredentialsRepository, type RegistryCredentialListing } from './registry-credentials.repository';

/** What a node needs to pull one image: held by the coordinator only long enough to send it. */
export interface RegistryAuth {
  /** The registry host as the image reference names it (host[:port]; docker.io for Docker Hub). */
  server: string;
  username: string;
  password: string;
}

export interface RegistryCredentialView {
  host: string;
  username: string;
  created_at: string;
  updated_at: string;
}

/** Binds a sealed password to its registry: a row copied to another host does not decrypt. */
export function registryAad(host: string): string {
  return `registry:${host}`;
}

const view = (r: RegistryCredentialListing): RegistryCredentialView => ({
  host: r.host,
  username: r.username,
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
});

/**
 * Credentials for private image registries, one per registry host, the password sealed under
 * the master key like every other secret (ADR 0007). Nothing here returns a password except
 * authFor(), whose answer goes into one node call and nowhere else.
 */
@Injectable()
export class RegistryCredentialsService {
  constructor(
    private readonly repo: RegistryCredentialsRepository,
    private readonly secrets: SecretsService,
  ) {}

  /** Stores (or replaces) the credentials for `host` (already validated and lower-cased). */
  async put(host: string, username: string, password: string): Promise<RegistryCredentialView> {
    const sealed = this.secrets.seal(password, registryAad(host));
    return view(await this.repo.put({ host, username, ciphertext: sealed.ciphertext, iv: sealed.iv, tag: sealed.tag, key_id: sealed.key_id }));
  }

  async list(): Promise<RegistryCredentialView[]> {
    return (await this.repo.list()).map(view);
  }

  async remove(host: string): Promise<void> {
    if (!(await this.repo.remove(host))) throw new NotFoundError(`no credentials stored for registry '${host}'`);
  }

  /** The credentials for the registry that holds `image`, or undefined when none are stored (a public image). */
  async authFor(image: string): Promise<RegistryAuth | undefined> {
    const server = parseImageRef(image).registry;
    const stored = await this.repo.find(server.toLowerCase());
    if (!stored) return undefined;
    let password: string;
    try {
      password = this.secrets.open(stored, registryAad(stored.host));
    } catch {
      throw new FailedPreconditionError(`the credentials stored for registry '${stored.host}' cannot be decrypted with this master key; store them again`);
    }
    return { server, username: stored.username, password };
  }
}
