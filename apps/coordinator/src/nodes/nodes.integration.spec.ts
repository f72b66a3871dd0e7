/**
 * The fleet against the real things: a node daemon started in-process (startNodeAgent, the local
 * Docker engine) and a real database (PGlite, or PostgreSQL when DATABASE_URL is set), driven
 * over HTTP like an operator and a daemon would. Needs Docker (fails when CI=true without it).
 */
import { coreTestModule } from '../testing/core-test.module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import { UnavailableError } from '@berth/domain';
import type { NodeInfo } from '@berth/proto';
import { describeWithDocker } from '@berth/testing';
import { enrolWithCoordinator, loadNodeConfig, startNodeAgent, storeToken, type NodeAgentHandle } from '@berth/node-daemon';
import { AuditModule } from '../audit/audit.repository';
import { AuthModule } from '../auth/auth.module';
import { DomainErrorFilter } from '../common/domain-error.filter';
import { DatabaseModule } from '../database/database.module';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { PlacementService } from '../scheduler';
import type { FleetEvent } from './fleet-events';
import { FleetService } from './fleet.service';
import { NODES_CONFIG, loadNodesConfig } from './nodes.config';
import { EnvModule } from '../config/env.module';
import { NodesModule } from './nodes.module';
import { NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';
import { freePort, waitFor } from '@berth/testing';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field
type Body = Record<string, any>;
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const GRACE_SECONDS = 2;

describeWithDocker('fleet (real node daemon, real database)', () => {
  let tdb: TestDatabase;
  let app: INestApplication;
  let base: string;
  let repo: NodesRepository;
  let fleet: FleetService;
  let service: NodesService;
  const events: FleetEvent[] = [];
  let stateDir: string;
  let grpcPort: number;
  let nodeName: string;
  let agent: NodeAgentHandle | undefined;
  let child: ChildProcess | undefined;
  let childLog = '';

  /** The same daemon as a real process (so it can die without saying goodbye), run from source. */
  const spawnDaemon = () => {
    const root = path.resolve(__dirname, '../../../..');
    const p = spawn(process.execPath, ['-r', path.join(root, 'libs/testing/src/ts-register.js'), path.join(root, 'apps/node-agent/src/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        BERTH_NODE_ID: nodeName,
        BERTH_NODE_LISTEN: `127.0.0.1:${grpcPort}`,
        BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
        BERTH_NODE_STATE_DIR: stateDir,
        BERTH_NODE_PORT_RANGE: '41000-41049',
        BERTH_NODE_ALLOCATABLE_MEMORY: '6GiB',
        BERTH_NODE_ALLOCATABLE_CPU: '3',
        BERTH_NODE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    p.stderr!.on('data', (d) => (childLog += d.toString()));
    return p;
  };
  const kill = async (p: ChildProcess) => {
    if (p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };

  const daemonConfig = (token?: string) =>
    loadNodeConfig({
      BERTH_NODE_ID: nodeName,
      BERTH_NODE_LISTEN: `127.0.0.1:${grpcPort}`,
      BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
      BERTH_NODE_STATE_DIR: stateDir,
      ...(token ? { BERTH_NODE_TOKEN: token } : {}),
      BERTH_NODE_PORT_RANGE: '41000-41049',
      BERTH_NODE_ALLOCATABLE_MEMORY: '6GiB',
      BERTH_NODE_ALLOCATABLE_CPU: '3',
      BERTH_NODE_LOG_LEVEL: 'error',
    });

  const post = (p: string, body: unknown, auth?: string) =>
    fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Body }));
  const get = (p: string, auth?: string) => fetch(`${base}${p}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} }).then(async (r) => ({ status: r.status, body: (await r.json()) as Body }));

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const Core = coreTestModule({ adminToken: ADMIN });
    const moduleRef = await Test.createTestingModule({
      imports: [Core, EnvModule.forRoot({}), DatabaseModule.forDatabase(tdb.db), AuditModule, AuthModule, NodesModule],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    })
      .overrideProvider(NODES_CONFIG)
      .useValue(loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: String(GRACE_SECONDS), BERTH_NODE_HEARTBEAT_MS: '300' }))
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as net.AddressInfo).port}`;
    repo = app.get(NodesRepository);
    fleet = app.get(FleetService);
    service = app.get(NodesService);
    fleet.events.subscribe((e) => events.push(e));

    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fleet-'));
    grpcPort = await freePort();
    nodeName = `fleet-${randomBytes(3).toString('hex')}`;
    // First start: the daemon makes its certificate (and a token of its own, replaced at enrolment).
    agent = await startNodeAgent(daemonConfig());
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    // The fleet first: a daemon's stop() waits for open WatchEvents streams to end.
    await app?.close();
    await agent?.stop();
    await tdb?.drop();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('refuses join tokens to anyone but the admin', async () => {
    expect((await post('/api/admin/nodes/join-tokens', {})).status).toBe(401);
    expect((await post('/api/admin/nodes/join-tokens', {}, 'not-the-admin-token-at-all-xxxx')).status).toBe(401);
  });

  let nodeId: string;
  let joinToken: string;

  it('enrols over HTTP with a join token, then sees heartbeats update the node row', async () => {
    const jt = await post('/api/admin/nodes/join-tokens', { description: 'integration', ttl_seconds: 600 }, ADMIN);
    expect(jt.status).toBe(201);
    joinToken = jt.body.join_token;
    expect(joinToken).toMatch(/^bjt_/);
    // Stored hashed: the token itself appears nowhere in the table.
    const rows = await tdb.db.sql.query<{ token_hash: string }>('SELECT token_hash FROM node_join_tokens');
    expect(rows.some((r) => r.token_hash.includes(joinToken) || joinToken.includes(r.token_hash))).toBe(false);

    const r = await enrolWithCoordinator({ coordinatorUrl: base, joinToken, name: nodeName, address: agent!.grpcAddress, fingerprint: agent!.fingerprintSha256 });
    expect(r.nodeId).toMatch(/^[0-9a-f-]{36}$/);
    nodeId = r.nodeId;
    // The token is not stored in clear.
    const raw = await tdb.db.sql.query<Record<string, unknown>>('SELECT * FROM nodes WHERE id = $1', [nodeId]);
    expect(JSON.stringify(raw)).not.toContain(r.nodeToken);

    // The daemon takes the token it was given (what enrolOnBoot does) and restarts with it.
    storeToken(stateDir, r.nodeToken);
    await agent!.stop();
    agent = await startNodeAgent(daemonConfig());
    expect(agent.token).toBe(r.nodeToken);

    // The first heartbeat goes out when the coordinator connects, which can be before the restarted
    // daemon's first Docker ping answers (docker_up false, truthfully): wait for one that has it.
    const node = await waitFor(async () => {
      const n = await repo.get(nodeId);
      return n?.lastHeartbeatAt && n.allocatableMemoryMb === 6 * 1024 && n.reported.docker_up === true ? n : undefined;
    }, 20_000, 'a heartbeat in the nodes row from a daemon that reaches Docker');
    expect(node.status).toBe('up');
    expect(node.allocatableCpuMillis).toBe(3000);
    expect(node.reported).toMatchObject({ ports_total: 50, docker_up: true });
    const first = node.lastHeartbeatAt!.getTime();
    await waitFor(async () => ((await repo.get(nodeId))!.lastHeartbeatAt!.getTime() > first ? true : undefined), 10_000, 'a later heartbeat');
    expect(events.some((e) => e.type === 'heartbeat' && e.nodeId === nodeId)).toBe(true);
    expect(app.get(PlacementService).getNode(nodeId)).toMatchObject({ status: 'up', allocatableMemoryBytes: 6 * 1024 ** 3, freePorts: 50 });

    // The client the deployment flow gets is pinned and authenticated: a real call succeeds.
    const info = await new Promise<NodeInfo>((resolve, reject) => fleet.getClient(nodeId).getInfo({}, (e, res) => (e ? reject(e) : resolve(res))));
    expect(info.nodeId).toBe(nodeName);

    const list = await get('/api/admin/nodes', ADMIN);
    expect(list.status).toBe(200);
    const mine = list.body.nodes.find((n: { id: string }) => n.id === nodeId);
    expect(mine).toMatchObject({ name: nodeName, status: 'up', reachable: true, slot_count: 0, capacity: { allocatable_memory_mb: 6144, allocated_memory_mb: 0 } });
    expect(mine.last_heartbeat_at).toEqual(expect.any(String));
    expect(JSON.stringify(list.body)).not.toContain(r.nodeToken);
  });

  it('refuses a reused join token', async () => {
    const r = await post('/api/nodes/enrol', { join_token: joinToken, name: `${nodeName}-again`, address: agent!.grpcAddress, tls_fingerprint_sha256: agent!.fingerprintSha256 });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/already been used/);
  });

  it('refuses an expired join token', async () => {
    const old = await service.createJoinToken({ ttlSeconds: 60 }, new Date(Date.now() - 3600_000));
    const r = await post('/api/nodes/enrol', { join_token: old.join_token, name: `${nodeName}-late`, address: agent!.grpcAddress, tls_fingerprint_sha256: agent!.fingerprintSha256 });
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/expired/);
    expect(await repo.getByName(`${nodeName}-late`)).toBeNull();
  });

  it('refuses a fingerprint that is not the certificate served at the address, and leaves the token usable', async () => {
    const jt = await service.createJoinToken();
    const wrong = 'AB:'.repeat(31) + 'AB';
    const r = await post('/api/nodes/enrol', { join_token: jt.join_token, name: `${nodeName}-mitm`, address: agent!.grpcAddress, tls_fingerprint_sha256: wrong });
    expect(r.status).toBe(400);
    expect(r.body.fields.tls_fingerprint_sha256).toBeDefined();
    expect(await repo.getByName(`${nodeName}-mitm`)).toBeNull();
    expect((await repo.findJoinToken(createHash('sha256').update(jt.join_token).digest('hex')))!.usedAt).toBeNull();
  });

  it('marks the node down after the grace period when the daemon dies, and up when it is back', async () => {
    // Swap the in-process daemon for the same daemon as a process (same state dir, cert, token,
    // port). Its stop() waits for our stream, so the fleet lets go of it first.
    fleet.disconnect(nodeId);
    await agent!.stop();
    agent = undefined;
    child = spawnDaemon();
    await fleet.connect((await repo.get(nodeId))!);
    const before = (await repo.get(nodeId))!.lastHeartbeatAt!.getTime();
    await waitFor(async () => ((await repo.get(nodeId))!.lastHeartbeatAt!.getTime() > before ? true : undefined), 60_000, `a heartbeat from the daemon process (log: ${childLog})`);

    const seenDown = events.filter((e) => e.type === 'node_down').length;
    await kill(child);
    const killedAt = Date.now();
    await waitFor(async () => (await repo.get(nodeId))!.status === 'down', 20_000, 'status down');
    // Not before the grace period has passed (the last heartbeat may be up to 300 ms older than the kill).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_SECONDS * 1000 - 400);
    expect(events.filter((e) => e.type === 'node_down').slice(seenDown)).toEqual([{ type: 'node_down', nodeId }]);
    expect(() => fleet.getClient(nodeId)).toThrow(UnavailableError);
    expect(app.get(PlacementService).getNode(nodeId)?.status).toBe('down');
    expect(await repo.reserve(nodeId, 1, 1)).toBe(false);

    const seenUp = events.filter((e) => e.type === 'node_up').length;
    child = spawnDaemon();
    await waitFor(async () => (await repo.get(nodeId))!.status === 'up', 60_000, `status up again (log: ${childLog})`);
    await waitFor(async () => events.filter((e) => e.type === 'node_up').length > seenUp, 5_000, 'node_up event');
    expect(events.filter((e) => e.type === 'node_up').slice(seenUp)).toEqual([{ type: 'node_up', nodeId }]);
    const info = await new Promise<NodeInfo>((resolve, reject) => fleet.getClient(nodeId).getInfo({}, (e, res) => (e ? reject(e) : resolve(res))));
    expect(info.nodeId).toBe(nodeName);
    expect(app.get(PlacementService).getNode(nodeId)?.status).toBe('up');
  });

  it('drains (no reservations, node_draining) and undrains through the admin API', async () => {
    const seen = events.length;
    const d = await post(`/api/admin/nodes/${nodeId}/drain`, {}, ADMIN);
    expect(d.status).toBe(200);
    expect(d.body.status).toBe('draining');
    expect(events.slice(seen)).toContainEqual({ type: 'node_draining', nodeId });
    expect(app.get(PlacementService).getNode(nodeId)?.status).toBe('draining');
    expect(await repo.reserve(nodeId, 100, 100)).toBe(false);

    const u = await post(`/api/admin/nodes/${nodeId}/undrain`, {}, ADMIN);
    expect(u.status).toBe(200);
    expect(u.body.status).toBe('up');
    expect((await get(`/api/admin/nodes/${randomBytes(16).toString('hex')}`, ADMIN)).status).toBe(404);
    expect((await post(`/api/admin/nodes/00000000-0000-4000-8000-000000000000/drain`, {}, ADMIN)).status).toBe(404);
  });
});
