import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  fingerprintSha256: string;
  generated: boolean;
}

/**
 * The daemon's TLS identity: the configured cert/key, else a self-signed one made on first start
 * and kept in the state dir (so its fingerprint, which the coordinator pins, stays stable).
 */
export async function loadOrCreateTls(
  stateDir: string,
  nodeId: string,
  certPath?: string,
  keyPath?: string,
): Promise<TlsMaterial> {
  if (certPath && keyPath) {
    const certPem = fs.readFileSync(certPath, 'utf8');
    return {
      certPem,
      keyPem: fs.readFileSync(keyPath, 'utf8'),
      fingerprintSha256: new X509Certificate(certPem).fingerprint256,
      generated: false,
    };
  }
  const cert = path.join(stateDir, 'tls.crt');
  const key = path.join(stateDir, 'tls.key');
  if (fs.existsSync(cert) && fs.existsSync(key)) {
    const certPem = fs.readFileSync(cert, 'utf8');
    return {
      certPem,
      keyPem: fs.readFileSync(key, 'utf8'),
      fingerprintSha256: new X509Certificate(certPem).fingerprint256,
      generated: false,
    };
  }
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  const pems = await generate([{ name: 'commonName', value: `berth-node-${nodeId}` }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: os.hostname() },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  } as Parameters<typeof generate>[1]);
  fs.writeFileSync(key, pems.private, { mode: 0o600 });
  fs.writeFileSync(cert, pems.cert, { mode: 0o644 });
  return {
    certPem: pems.cert,
    keyPem: pems.private,
    fingerprintSha256: new X509Certificate(pems.cert).fingerprint256,
    generated: true,
  };
}
