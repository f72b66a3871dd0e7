/**
 * The fleet end to end, on real Docker: node daemons as child processes (so they can be
 * SIGKILLed) on two Docker engines (the default one and the second one
 * `scripts/docker-engines.sh --second` starts, standing in for a second host), each enrolled
 * through the real flow (an admin's join token, BERTH_COORDINATOR_URL + BERTH_JOIN_TOKEN), a
 * coordinator over a real database (PGlite, or a schema / database of its own on DATABASE_URL),
 * driven over HTTP like an admin and customers.
 *
 *   1. spread placement  2. drain  3. a killed node (reschedule, then the stale copies go)
 *   4. the coordinator itself SIGKILLed mid-deploy and restarted on the same database.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Server } from 'node:http';
import { Pool } from 'pg';
import { buildStandinImage, removeDockerObjectsByLabel, testDocker } from '@berth/testing';
import { createApp, type CoordinatorApp } from '../apps/coordinator/src/app';
import { createTestDatabase, type TestDatabase } from '../apps/coordinator/src/database/test-database';
import { Api, ENGINE_1, ENGINE_2, TsProcess, answersHealth, describeWithEngines, freePort, slotContainers, waitFor, type Body } from './fleet/support';

const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const RUN = randomBytes(3).toString('hex');
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
/** The same tags are built on every engine: images are per engine. */
const IMAGE = 'berth-test/standin:fleet';
const SLOW_IMAGE = 'berth-test/standin:fleet-slow';
const SLOW_START_MS = 20_000;
/** Myrai's manifest: health on /api/health of port 8080, data in /app/data. */
const HEALTH_PATH = '/api/health';
const FLEET_ENV = { BERTH_NODE_GRACE_SECONDS: '3', BERTH_NODE_HEARTBEAT_MS: '500', BERTH_PLACEMENT_RETRY_MS: '1000', BERTH_DRAIN_RETRY_MS: '2000' };

const standin = (dockerHost: string, slow = false) =>
  buildStandinImage({
    tag: slow ? SLOW_IMAGE : IMAGE,
    ports: [8080],
    healthPath: HEALTH_PATH,
    dataDir: '/app/data',
    behaviour: slow ? 'slow-start' : 'healthy',
    env: slow ? { STANDIN_START_DELAY_MS: String(SLOW_START_MS) } : undefined,
    docker: testDocker(dockerHost),
  });

/** One node daemon (apps/node-agent/src/main.ts) in a child process, with its own state dir, port range and capacity. */
class FleetNode {
  id = '';
  readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fleet-node-'));
  readonly proc: TsProcess;

  /** The gRPC port is fixed for the daemon's life: the coordinator stores the address at enrolment. */
  static async create(name: string, engine: string, portRange: string): Promise<FleetNode> {
    return new FleetNode(name, engine, await freePort(), portRange);
  }

  private constructor(
    readonly name: string,
    readonly engine: string,
    grpcPort: number,
    readonly portRange: string,
  ) {
    this.proc = new TsProcess(name, 'apps/node-agent/src/main.ts', {
      DOCKER_HOST: engine,
      BERTH_NODE_ID: name,
      BERTH_NODE_LISTEN: `127.0.0.1:${grpcPort}`,
      BERTH_NODE_ADVERTISE_ADDRESS: `127.0.0.1:${grpcPort}`,
      BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
      BERTH_NODE_STATE_DIR: this.stateDir,
      BERTH_NODE_PORT_RANGE: portRange,
      BERTH_NODE_ALLOCATABLE_MEMORY: '2GiB',
      BERTH_NODE_ALLOCATABLE_CPU: '1',
      BERTH_NODE_LOG_LEVEL: 'info',
      BERTH_COORDINATOR_URL: undefined,
      BERTH_JOIN_TOKEN: undefined,
      BERTH_NODE_TOKEN: undefined,
    });
  }

  /** First start: enrols itself with a join token the admin made over HTTP. */
  async enrol(api: Api): Promise<void> {
    this.proc.start({ BERTH_COORDINATOR_URL: api.base, BERTH_JOIN_TOKEN: await api.joinToken(`fleet e2e ${this.name}`) });
    const n = await waitFor(
      async () => (await api.nodes()).find((x) => x.name === this.name && x.status === 'up' && x.capacity.allocatable_memory_mb === 2048),
      90_000,
      `node ${this.name} enrolled and up`,
      () => this.proc.tail(),
    );
    this.id = n.id as string;
  }

  async cleanup(): Promise<void> {
    await this.proc.kill();
    await removeDockerObjectsByLabel(`berth.node=${this.name}`, testDocker(this.engine)).catch(() => undefined);
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}

describeWithEngines(`fleet e2e: node daemons on two Docker engines (${pass})`, [ENGINE_1, ENGINE_2], () => {
  beforeAll(async () => {
    await Promise.all([standin(ENGINE_1), standin(ENGINE_2), standin(ENGINE_2, true)]);
  }, 240_000);

  describe('a coordinator and three nodes', () => {
    let tdb: TestDatabase;
    let c: CoordinatorApp;
    let api: Api;
    let dataDir: string;
    const logs: string[] = [];
    // a and c share the default engine; b is on the second "host".
    let a: FleetNode, b: FleetNode, cn: FleetNode;
    let nodes: FleetNode[] = [];
    const byId = (id: string) => nodes.find((n) => n.id === id)!;
    const customers: { token: string; slotId: string }[] = [];
    const diag = () => [...nodes.map((n) => n.proc.tail(15)), '--- coordinator ---', ...logs.slice(-30)].join('\n');

    /** The slot as its customer sees it, once it runs healthy on a node that satisfies `where`. */
    const runningSlot = (token: string, where: (nodeId: string) => boolean, what: string) =>
      waitFor(
        async () => {
          const s = await api.slot(token);
          return s.state === 'running' && s.health === 'healthy' && s.node_id && where(s.node_id) && s.deployment?.finished_at ? s : undefined;
        },
        90_000,
        what,
        diag,
      );

    /** Every slot has exactly one container across both engines: running, on the engine and with the name of the node the coordinator says. */
    const exactlyOneCopyEach = async (): Promise<Body[] | undefined> => {
      const out: Body[] = [];
      for (const cu of customers) {
        const s = await api.slot(cu.token);
        const node = byId(s.node_id);
        const copies = [...(await slotContainers(ENGINE_1, cu.slotId)), ...(await slotContainers(ENGINE_2, cu.slotId))];
        if (copies.length !== 1) return undefined;
        const [only] = copies;
        const onEngine = await slotContainers(node.engine, cu.slotId, node.name);
        if (onEngine.length !== 1 || onEngine[0].Id !== only.Id || only.State !== 'running') return undefined;
        out.push(s);
      }
      return out;
    };

    beforeAll(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fleet-coord-'));
      tdb = await createTestDatabase();
      c = await createApp({
        env: { ...FLEET_ENV, BERTH_DATA_DIR: dataDir, BERTH_ADMIN_TOKEN: ADMIN, BERTH_MASTER_KEY: randomBytes(32).toString('base64'), BERTH_LOCAL_NODE: 'false', LOG_LEVEL: 'log' },
        db: tdb.db,
        logger: {
          log: (m: unknown) => void logs.push(String(m)),
          error: (m: unknown, ...r: unknown[]) => void logs.push([m, ...r].map(String).join(' ')),
          warn: (m: unknown) => void logs.push(String(m)),
          debug: () => undefined,
          verbose: () => undefined,
        },
      });
      await c.app.listen(0, '127.0.0.1');
      api = new Api(`http://127.0.0.1:${((c.app.getHttpServer() as Server).address() as net.AddressInfo).port}`, ADMIN);
      await api.admin('PATCH', '/api/admin/agent-types/myrai', { base_image: IMAGE });
      a = await FleetNode.create(`fleet-${RUN}-a`, ENGINE_1, '32000-32099');
      b = await FleetNode.create(`fleet-${RUN}-b`, ENGINE_2, '32100-32199');
      cn = await FleetNode.create(`fleet-${RUN}-c`, ENGINE_1, '32200-32299');
      nodes = [a, b, cn];
      await Promise.all(nodes.map((n) => n.enrol(api)));
    }, 180_000);

    afterAll(async () => {
      await Promise.all(nodes.map((n) => n.proc.kill()));
      await c?.close();
      await tdb?.drop();
      await Promise.all(nodes.map((n) => n.cleanup()));
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('spreads signups over the nodes; each container runs on the engine of the node the coordinator names', async () => {
      // Six customers at once: spread gives each of the three equal nodes two (a burst must not pile onto one).
      const signups = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => api.signup(`spread${i}`)));
      for (const r of signups) customers.push({ token: r.token, slotId: r.slot.id });
      const slots: Body[] = [];
      for (const cu of customers) slots.push(await runningSlot(cu.token, () => true, `slot ${cu.slotId} running`));

      const list = await api.nodes();
      const perNode = Object.fromEntries(nodes.map((n) => [n.name, slots.filter((s) => s.node_id === n.id).length]));
      expect(perNode).toEqual({ [a.name]: 2, [b.name]: 2, [cn.name]: 2 });
      for (const n of nodes) {
        expect(list.find((x) => x.id === n.id)).toMatchObject({
          status: 'up',
          slot_count: 2,
          capacity: { allocatable_memory_mb: 2048, allocated_memory_mb: 1024, allocatable_cpu_millis: 1000, allocated_cpu_millis: 500 },
        });
      }
      expect(await exactlyOneCopyEach()).toBeDefined();
      for (const s of slots) {
        const node = byId(s.node_id);
        const [ct] = await slotContainers(node.engine, s.id, node.name);
        expect(ct.Image).toBe(IMAGE);
        // Published on the node's own range, and the agent answers there.
        const port = Number(new URL(s.urls[0].url).port);
        const [from, to] = node.portRange.split('-').map(Number);
        expect(port).toBeGreaterThanOrEqual(from);
        expect(port).toBeLessThanOrEqual(to);
        expect(await answersHealth(s, HEALTH_PATH)).toBe(true);
      }
    });

    it("drain moves the node's slots to the others, healthy there, gone from it, its room back to 0", async () => {
      const before = await Promise.all(customers.map((cu) => api.slot(cu.token)));
      const moving = before.filter((s) => s.node_id === a.id);
      expect(moving.length).toBeGreaterThan(0);

      expect((await api.admin('POST', `/api/admin/nodes/${a.id}/drain`)).status).toBe('draining');
      for (const s of moving) {
        const cu = customers.find((x) => x.slotId === s.id)!;
        const moved = await runningSlot(cu.token, (id) => id !== a.id, `slot ${s.id} moved off the drained node`);
        expect(moved.deployment).toMatchObject({ kind: 'move', status: 'succeeded' });
        expect(await answersHealth(moved, HEALTH_PATH)).toBe(true);
        await waitFor(async () => (await slotContainers(a.engine, s.id, a.name)).length === 0, 30_000, `slot ${s.id}'s container gone from ${a.name}`, diag);
      }
      const drained = await waitFor(async () => {
        const n = await api.node(a.id);
        return n.capacity.allocated_memory_mb === 0 && n.capacity.allocated_cpu_millis === 0 && n.slot_count === 0 ? n : undefined;
      }, 30_000, `${a.name}'s capacity released`, diag);
      expect(drained.status).toBe('draining');
      expect(await exactlyOneCopyEach()).toBeDefined();
      // The others hold what the drained node held.
      const list = await api.nodes();
      expect(list.filter((n) => n.id !== a.id).reduce((sum, n) => sum + n.capacity.allocated_memory_mb, 0)).toBe(512 * customers.length);

      // Back into placement for what follows.
      expect((await api.admin('POST', `/api/admin/nodes/${a.id}/undrain`)).status).toBe('up');
    });

    it('a SIGKILLed node is marked down after the grace period, its slots run elsewhere; back up, its stale copies are removed', async () => {
      const onB = (await Promise.all(customers.map((cu) => api.slot(cu.token)))).filter((s) => s.node_id === b.id);
      expect(onB.length).toBeGreaterThan(0);

      await b.proc.kill();
      await waitFor(async () => (await api.node(b.id)).status === 'down', 30_000, `${b.name} marked down`, diag);
      for (const s of onB) {
        const cu = customers.find((x) => x.slotId === s.id)!;
        const moved = await runningSlot(cu.token, (id) => id !== b.id, `slot ${s.id} rescheduled off the dead node`);
        expect(moved.deployment).toMatchObject({ kind: 'reschedule', status: 'succeeded' });
        expect(await answersHealth(moved, HEALTH_PATH)).toBe(true);
        // Docker keeps the dead daemon's containers running: the stale copy is still there.
        expect(await slotContainers(b.engine, s.id, b.name)).toHaveLength(1);
      }
      expect((await api.node(b.id)).capacity.allocated_memory_mb).toBe(0);

      // Same state dir: same certificate and token, no join token needed.
      b.proc.start();
      await waitFor(async () => (await api.node(b.id)).status === 'up', 90_000, `${b.name} up again`, diag);
      // It adopts its containers; the coordinator removes the copies of slots that live elsewhere now.
      const slots = await waitFor(exactlyOneCopyEach, 60_000, 'exactly one container per slot across both engines', diag);
      for (const s of slots) {
        expect(s.node_id).not.toBe(b.id);
        expect(await answersHealth(s, HEALTH_PATH)).toBe(true);
      }
      const back = await api.node(b.id);
      expect(back).toMatchObject({ status: 'up', slot_count: 0, capacity: { allocated_memory_mb: 0, allocated_cpu_millis: 0 } });
      // The stale copies' data volumes stay (terminate without purge), their containers and networks go.
      for (const s of onB) expect(await slotContainers(b.engine, s.id, b.name)).toHaveLength(0);
    });
  });

  describe('the coordinator SIGKILLed mid-deploy', () => {
    let dataDir: string;
    let pg: { admin: Pool; database: string } | undefined;
    let coordinator: TsProcess;
    let api: Api;
    let d: FleetNode;
    const diag = () => [d?.proc.tail(15), coordinator?.tail(40)].join('\n');

    const coordinatorUp = () => waitFor(async () => (await fetch(`${api.base}/healthz`)).status === 200, 120_000, 'the coordinator process answering /healthz', diag);

    beforeAll(async () => {
      // PGlite reopens its data dir after a SIGKILL; with DATABASE_URL this test gets a database of its own.
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-fleet-killed-coord-'));
      let databaseUrl: string | undefined;
      if (process.env.DATABASE_URL) {
        const database = `berth_fleet_${RUN}`;
        const admin = new Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
        await admin.query(`CREATE DATABASE "${database}"`);
        pg = { admin, database };
        const u = new URL(process.env.DATABASE_URL);
        u.pathname = `/${database}`;
        databaseUrl = u.toString();
      }
      const port = await freePort();
      coordinator = new TsProcess('coordinator', 'apps/coordinator/src/main.ts', {
        ...FLEET_ENV,
        PORT: String(port),
        HOST: '127.0.0.1',
        BERTH_DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        BERTH_ADMIN_TOKEN: ADMIN,
        BERTH_LOCAL_NODE: 'false',
        BERTH_MASTER_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'log',
      });
      api = new Api(`http://127.0.0.1:${port}`, ADMIN);
      coordinator.start();
      await coordinatorUp();
      d = await FleetNode.create(`fleet-${RUN}-d`, ENGINE_2, '32300-32399');
      await d.enrol(api);
      await api.admin('PATCH', '/api/admin/agent-types/myrai', { base_image: SLOW_IMAGE });
    }, 240_000);

    afterAll(async () => {
      await coordinator?.kill();
      await d?.cleanup();
      if (pg) {
        await pg.admin.query(`DROP DATABASE IF EXISTS "${pg.database}" WITH (FORCE)`);
        await pg.admin.end();
      }
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('finishes the deployment after a restart on the same database, with exactly one container for the slot', async () => {
      const r = await api.signup('killed');
      const token = r.token as string;
      const slotId = r.slot.id as string;
      const depId = r.deployment.id as string;
      // In progress: the container is started, the slow agent is not healthy yet.
      const mid = await waitFor(
        async () => {
          const dep = await api.deployment(token, depId);
          return dep.events.some((e: Body) => e.type === 'starting') ? dep : undefined;
        },
        60_000,
        'the deployment to reach starting',
        diag,
      );
      expect(mid).toMatchObject({ status: 'running', finished_at: null, node_id: d.id });
      const [before] = await slotContainers(d.engine, slotId, d.name);
      expect(before).toBeDefined();

      await coordinator.kill();
      coordinator.start();
      await coordinatorUp();

      const done = await waitFor(
        async () => {
          const dep = await api.deployment(token, depId);
          return dep.finished_at ? dep : undefined;
        },
        90_000,
        'the deployment to finish after the restart',
        diag,
      );
      expect(done).toMatchObject({ status: 'succeeded', node_id: d.id, error: null });
      const slot = await api.slot(token);
      expect(slot).toMatchObject({ state: 'running', health: 'healthy', node_id: d.id });
      expect(await answersHealth(slot, HEALTH_PATH)).toBe(true);
      // One container for the slot on any engine: the one made before the kill (the retried Deploy carried the same deployment id).
      const copies = [...(await slotContainers(ENGINE_1, slotId)), ...(await slotContainers(ENGINE_2, slotId))];
      expect(copies.map((x) => x.Id)).toEqual([before.Id]);
      expect(copies[0].State).toBe('running');
      expect((await api.node(d.id)).capacity).toMatchObject({ allocated_memory_mb: 512, allocated_cpu_millis: 250 });
    });
  });
});
