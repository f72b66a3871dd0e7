import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from './master-key';
import { maskHint, secretAad, SecretsService } from './secrets.service';

describe('SecretsService', () => {
  const svc = new SecretsService(randomBytes(32));

  it('round-trips, never stores the plaintext, and hints only the last 4', () => {
    const s = svc.seal('sk-ant-verysecretvalue1234', secretAad('slot-1', 'llm_key'));
    expect(s.ciphertext.toString('utf8')).not.toContain('verysecret');
    expect(s.key_hint).toBe('…1234');
    expect(svc.open(s, secretAad('slot-1', 'llm_key'))).toBe('sk-ant-verysecretvalue1234');
  });

  it('refuses a ciphertext moved to another slot or kind, tampered, or under another key', () => {
    const s = svc.seal('secret-value-abcd', secretAad('slot-1', 'llm_key'));
    expect(() => svc.open(s, secretAad('slot-2', 'llm_key'))).toThrow();
    expect(() => svc.open(s, secretAad('slot-1', 'telegram_token'))).toThrow();
    const tampered = { ...s, ciphertext: Buffer.from(s.ciphertext.map((b, i) => (i === 0 ? b ^ 1 : b))) };
    expect(() => svc.open(tampered, secretAad('slot-1', 'llm_key'))).toThrow();
    expect(() => new SecretsService(randomBytes(32)).open(s, secretAad('slot-1', 'llm_key'))).toThrow();
  });

  it('masks short secrets entirely', () => {
    expect(maskHint('short')).toBe('…');
  });
});

describe('loadMasterKey', () => {
  it('generates a 0600 key once, then reads it back; the env key wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
    try {
      const a = loadMasterKey({ dataDir: dir });
      expect(a.source).toBe('generated');
      expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
      const b = loadMasterKey({ dataDir: dir });
      expect(b.source).toBe('file');
      expect(b.key.equals(a.key)).toBe(true);
      expect(readFileSync(join(dir, 'master.key'), 'utf8').trim()).toBe(a.key.toString('base64'));
      const env = randomBytes(32).toString('base64');
      expect(loadMasterKey({ dataDir: dir, masterKeyB64: env }).key.toString('base64')).toBe(env);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
