import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fetchServerCertificate } from '@berth/proto';
import { loadNodeConfig } from './config';
import { enrolIfConfigured, enrolOnBoot, enrolWithCoordinator, EnrolmentError, hasStoredToken, storeToken, tokenFile } from './enrol';
import { freePort } from '@berth/testing';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('enrolWithCoordinator', () => {
  it('posts the enrolment body and answers the node id and token', async () => {
    const calls: Array<{ url: string; body: unknown }> = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(String(init.body)) });
      return json(201, { node_id: 'n-1', node_token: 'x'.repeat(43) });
    }) as unknown as typeof fetch;
    const r = await enrolWithCoordinator({ coordinatorUrl: 'http://coord:8080/', joinToken: 'bjt_1', name: 'host-a', address: '10.0.0.5:7443', fingerprint: 'AB:CD', allocatableMemoryMb: 2048, fetchImpl });
    expect(r).toEqual({ nodeId: 'n-1', nodeToken: 'x'.repeat(43) });
    expect(calls).toEqual([{ url: 'http://coord:8080/api/nodes/enrol', body: { join_token: 'bjt_1', name: 'host-a', address: '10.0.0.5:7443', tls_fingerprint_sha256: 'AB:CD', allocatable_memory_mb: 2048 } }]);
  });

  it("carries the coordinator's reason when refused", async () => {
    const fetchImpl = (async () => json(401, { error: 'this join token has expired; create a new one' })) as unknown as typeof fetch;
    const p = enrolWithCoordinator({ coordinatorUrl: 'http://c', joinToken: 't', name: 'n', address: 'h:1', fingerprint: 'f', fetchImpl });
    await expect(p).rejects.toThrow(EnrolmentError);
    await expect(p).rejects.toThrow(/HTTP 401.*expired/);
  });

  it('refuses an answer without a token', async () => {
    const fetchImpl = (async () => json(201, { node_id: 'n' })) as unknown as typeof fetch;
    await expect(enrolWithCoordinator({ coordinatorUrl: 'http://c', joinToken: 't', name: 'n', address: 'h:1', fingerprint: 'f', fetchImpl })).rejects.toThrow(/without node_id and node_token/);
  });
});

describe('enrolOnBoot', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-enrol-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("serves the daemon's own certificate while the coordinator checks it, then stores the token (0600) and frees the port", async () => {
    const port = await freePort();
    const seen: Array<{ claimed: string; served: string; address: string }> = [];
    // A coordinator that does what the real one does: read the certificate at the address it was given.
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body)) as { address: string; tls_fingerprint_sha256: string };
      const cert = await fetchServerCertificate(body.address);
      seen.push({ claimed: body.tls_fingerprint_sha256, served: cert.fingerprintSha256, address: body.address });
      return json(201, { node_id: 'n-1', node_token: 'tok-'.repeat(8) });
    }) as unknown as typeof fetch;

    const id = await enrolOnBoot({ coordinatorUrl: 'http://c', joinToken: 't', name: 'host-a', stateDir: dir, listen: `127.0.0.1:${port}`, fetchImpl });
    expect(id).toBe('n-1');
    expect(seen).toHaveLength(1);
    expect(seen[0].address).toBe(`127.0.0.1:${port}`);
    expect(seen[0].served).toBe(seen[0].claimed);
    expect(fs.readFileSync(tokenFile(dir), 'utf8').trim()).toBe('tok-'.repeat(8));
    expect(fs.statSync(tokenFile(dir)).mode & 0o777).toBe(0o600);
    expect(hasStoredToken(dir)).toBe(true);
    // The certificate is the one the daemon will keep using.
    expect(fs.existsSync(path.join(dir, 'tls.crt'))).toBe(true);
    // The port is free again for the daemon itself.
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    s.close();

    // Already enrolled: nothing to do, no request.
    const again = jest.fn();
    expect(await enrolOnBoot({ coordinatorUrl: 'http://c', joinToken: 't', name: 'host-a', stateDir: dir, listen: `127.0.0.1:${port}`, fetchImpl: again as unknown as typeof fetch })).toBeUndefined();
    expect(again).not.toHaveBeenCalled();
  });

  it('stores nothing when refused', async () => {
    const port = await freePort();
    const fetchImpl = (async () => json(400, { error: 'invalid request', fields: { tls_fingerprint_sha256: ['does not match'] } })) as unknown as typeof fetch;
    await expect(enrolOnBoot({ coordinatorUrl: 'http://c', joinToken: 't', name: 'host-a', stateDir: dir, listen: `127.0.0.1:${port}`, fetchImpl })).rejects.toThrow(/tls_fingerprint_sha256/);
    expect(hasStoredToken(dir)).toBe(false);
  });
});

describe('enrolIfConfigured (the daemon main)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-enrol-'))));
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const cfg = (port: number, extra: Record<string, string> = {}) => loadNodeConfig({ BERTH_NODE_ID: 'host-a', BERTH_NODE_LISTEN: `127.0.0.1:${port}`, BERTH_NODE_STATE_DIR: dir, ...extra });

  it('enrols on first start when both variables are set, and not again once a token is stored', async () => {
    const port = await freePort();
    const f = jest.spyOn(globalThis, 'fetch').mockImplementation((async () => json(201, { node_id: 'n-9', node_token: 'z'.repeat(40) })) as unknown as typeof fetch);
    const env = { BERTH_COORDINATOR_URL: 'http://coord:8080', BERTH_JOIN_TOKEN: 'bjt_abcdefgh' };
    await enrolIfConfigured(cfg(port), env, () => undefined);
    expect(f).toHaveBeenCalledTimes(1);
    expect(fs.readFileSync(tokenFile(dir), 'utf8').trim()).toBe('z'.repeat(40));
    await enrolIfConfigured(cfg(port), env, () => undefined);
    expect(f).toHaveBeenCalledTimes(1);
  });

  it('does nothing without both variables or with BERTH_NODE_TOKEN, and names a bad variable', async () => {
    const f = jest.spyOn(globalThis, 'fetch');
    const said: string[] = [];
    await enrolIfConfigured(cfg(7443), {}, (m) => said.push(m));
    await enrolIfConfigured(cfg(7443), { BERTH_JOIN_TOKEN: 'bjt_abcdefgh' }, (m) => said.push(m));
    await enrolIfConfigured(cfg(7443, { BERTH_NODE_TOKEN: 'x'.repeat(20) }), { BERTH_COORDINATOR_URL: 'http://c', BERTH_JOIN_TOKEN: 'bjt_abcdefgh' }, (m) => said.push(m));
    expect(f).not.toHaveBeenCalled();
    expect(said).toEqual([expect.stringMatching(/needs both/)]);
    await expect(enrolIfConfigured(cfg(7443), { BERTH_COORDINATOR_URL: 'ftp://x', BERTH_JOIN_TOKEN: 'bjt_abcdefgh' })).rejects.toThrow(/BERTH_COORDINATOR_URL/);
    storeToken(dir, 'y'.repeat(20));
    await enrolIfConfigured(cfg(7443), { BERTH_COORDINATOR_URL: 'http://c', BERTH_JOIN_TOKEN: 'bjt_abcdefgh' });
    expect(f).not.toHaveBeenCalled();
  });
});
