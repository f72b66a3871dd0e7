import { createHash, X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { CallCredentials, ChannelCredentials, credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { NodeAgentClient } from './gen/berth/node/v1/node_agent';

/** The protocol versions (proto packages) this build speaks. */
export const NODE_PROTOCOL_VERSIONS = ['berth.node.v1'] as const;

export interface NodeAgentCredentials {
  /** Node token, sent as `authorization: Bearer <token>` on every call. */
  token: string;
  /**
   * The daemon's certificate (PEM), as learnt at enrolment. Trusted as the only root: a self-signed
   * daemon cert verifies against itself. Omit to use the system CAs (a cert from a real CA).
   */
  serverCertPem?: string;
  /**
   * SHA-256 fingerprint to pin (as NodeInfo.tls_fingerprint_sha256 / the daemon's boot log prints it).
   * When set, the host name in the certificate is not checked; the fingerprint is.
   */
  fingerprintSha256?: string;
}

/** SHA-256 of a PEM certificate's DER, 'AB:CD:...' (the format Node's tls and openssl print). */
export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

function normaliseFingerprint(f: string): string {
  return f.replace(/[^a-fA-F0-9]/g, '').toUpperCase();
}

export function tokenCallCredentials(token: string): CallCredentials {
  return grpcCredentials.createFromMetadataGenerator((_params, callback) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    callback(null, md);
  });
}

export function nodeAgentChannelCredentials(c: NodeAgentCredentials): ChannelCredentials {
  const pin = c.fingerprintSha256 ? normaliseFingerprint(c.fingerprintSha256) : undefined;
  const ssl = grpcCredentials.createSsl(c.serverCertPem ? Buffer.from(c.serverCertPem) : null, null, null, {
    checkServerIdentity: (host, cert) => {
      if (pin) {
        const got = normaliseFingerprint(cert.fingerprint256 ?? '');
        return got === pin
          ? undefined
          : new Error(
              `node certificate fingerprint ${cert.fingerprint256} does not match the pinned ${c.fingerprintSha256}`,
            );
      }
      return tls.checkServerIdentity(host, cert);
    },
  });
  return grpcCredentials.combineChannelCredentials(ssl, tokenCallCredentials(c.token));
}

/**
 * The typed client the coordinator uses to talk to one node daemon.
 *   const client = createNodeAgentClient('10.0.0.5:7443', { token, serverCertPem, fingerprintSha256 });
 * Close it with client.close().
 */
export function createNodeAgentClient(
  address: string,
  credentials: NodeAgentCredentials,
  options: Record<string, unknown> = {},
): NodeAgentClient {
  // With a pinned fingerprint the host name is not what is checked, so give TLS a name for SNI
  // instead of the node's IP address (Node warns about an IP as ServerName, RFC 6066).
  const pinned = credentials.fingerprintSha256 ? { 'grpc.ssl_target_name_override': 'berth-node' } : {};
  return new NodeAgentClient(address, nodeAgentChannelCredentials(credentials), { ...pinned, ...options });
}

/**
 * Trust on first use, for enrolment: connects without verifying and returns the certificate the
 * daemon presents, with its fingerprint. Compare the fingerprint with the one the daemon printed
 * at boot (or got out of band) before storing the PEM and pinning it.
 */
export function fetchServerCertificate(
  address: string,
  timeoutMs = 5000,
): Promise<{ pem: string; fingerprintSha256: string }> {
  const [host, port] = splitHostPort(address);
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host,
        port,
        rejectUnauthorized: false,
        ALPNProtocols: ['h2'],
        servername: net_isIP(host) ? undefined : host,
      },
      () => {
        const cert = socket.getPeerCertificate(false);
        socket.destroy();
        if (!cert?.raw) return reject(new Error(`no certificate from ${address}`));
        const pem = `-----BEGIN CERTIFICATE-----\n${cert.raw
          .toString('base64')
          .match(/.{1,64}/g)!
          .join('\n')}\n-----END CERTIFICATE-----\n`;
        resolve({
          pem,
          fingerprintSha256: createHash('sha256')
            .update(cert.raw)
            .digest('hex')
            .toUpperCase()
            .match(/../g)!
            .join(':'),
        });
      },
    );
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`timed out reading the certificate of ${address}`)),
    );
    socket.on('error', reject);
  });
}

function net_isIP(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(':');
}

function splitHostPort(address: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`address must be host:port, got ${address}`);
  return [m[1], Number(m[2])];
}
