import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** registry_auth: a custom image's registry credentials, `{username, password}` as JSON (hint: none). */
export type SecretKind = 'llm_key' | 'telegram_token' | 'gateway_token' | 'registry_auth';

export interface SealedSecret {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  /** "…abcd": the last 4 characters, the most an API answer ever shows. */
  key_hint: string;
  key_id: string;
}

/** AES-256-GCM under the master key. The plaintext never leaves this class except through open(). */
export class SecretsService {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('master key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** `keyHint`: what an API answer may show of it (default the last 4 characters, see maskHint). */
  seal(plaintext: string, aad: string, keyHint = maskHint(plaintext)): SealedSecret {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return { ciphertext, iv, tag: c.getAuthTag(), key_hint: keyHint, key_id: this.keyId };
  }

  /** `aad` binds the ciphertext to its owner and kind (e.g. "slot:<id>:llm_key"): a row copied elsewhere does not decrypt. */
  open(sealed: Pick<SealedSecret, 'ciphertext' | 'iv' | 'tag'>, aad: string): string {
    const d = createDecipheriv('aes-256-gcm', this.key, sealed.iv);
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(sealed.tag);
    return Buffer.concat([d.update(sealed.ciphertext), d.final()]).toString('utf8');
  }

  /** A random gateway token for agents that need one (OPENCLAW_GATEWAY_TOKEN, MYRAI_GATEWAY_TOKEN). */
  static newGatewayToken(): string {
    return randomBytes(24).toString('base64url');
  }
}

export function maskHint(secret: string): string {
  return secret.length <= 8 ? '…' : `…${secret.slice(-4)}`;
}

/** The hint a secret of `kind` may show: none for registry credentials (JSON whose end is the password). */
export function secretHint(kind: string, plaintext: string): string {
  return kind.startsWith('registry_auth') ? '…' : maskHint(plaintext);
}

export function secretAad(slotId: string, kind: SecretKind): string {
  return `slot:${slotId}:${kind}`;
}
