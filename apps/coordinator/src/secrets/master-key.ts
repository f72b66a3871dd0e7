import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The master key: BERTH_MASTER_KEY (base64, 32 bytes), else $BERTH_DATA_DIR/master.key,
 * generated on first start with mode 0600. Never stored in the database.
 */
export function loadMasterKey(opts: { masterKeyB64?: string; dataDir: string }): { key: Buffer; source: 'env' | 'file' | 'generated' } {
  if (opts.masterKeyB64) return { key: Buffer.from(opts.masterKeyB64, 'base64'), source: 'env' };
  const file = join(opts.dataDir, 'master.key');
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600);
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
    return { key, source: 'file' };
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated' };
}
