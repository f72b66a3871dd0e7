import { Algorithm, hash, verify } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * argon2id with OWASP's parameters (19 MiB, t=2, p=1). Common passwords come from
 * @zxcvbn-ts/language-common's ranked list (~49k passwords gathered from public breach corpora).
 */
export const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;

let common: Set<string> | undefined;
export function isCommonPassword(pw: string): boolean {
  common ??= new Set((dictionary.passwords as string[]).filter((p) => p.length >= MIN_PASSWORD_LENGTH).map((p) => p.toLowerCase()));
  return common.has(pw.toLowerCase());
}

/** Problems with a new password, empty when it is acceptable. */
export function passwordProblems(pw: string, email?: string): string[] {
  const out: string[] = [];
  if (pw.length < MIN_PASSWORD_LENGTH) out.push(`must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (pw.length > MAX_PASSWORD_LENGTH) out.push(`must be at most ${MAX_PASSWORD_LENGTH} characters`);
  if (pw.length >= MIN_PASSWORD_LENGTH && isCommonPassword(pw)) out.push('is too common; choose a less guessable password');
  if (email && pw.toLowerCase() === email.toLowerCase()) out.push('must not be your email address');
  return out;
}

export function hashPassword(pw: string): Promise<string> {
  return hash(pw, ARGON2_OPTIONS);
}

/** A hash of a random password, so an unknown email costs as much time as a known one. */
let dummy: Promise<string> | undefined;
export async function verifyPassword(stored: string | null, pw: string): Promise<boolean> {
  if (!stored) {
    dummy ??= hashPassword('not-a-real-password-' + Math.random());
    await verify(await dummy, pw).catch(() => false);
    return false;
  }
  return verify(stored, pw).catch(() => false);
}
