import { status } from '@grpc/grpc-js';
import { Capacity, LogChunk, NodeAgentClient, NodeEvent, Slot, SlotState } from '@berth/proto';
import { describeWithDocker, DockerDoor, removeDockerObjectsByLabel } from '@berth/testing';
import { createLogger } from '../src/logger';
import { NodeAgentHandle, startNodeAgent } from '../src/node-agent';
import {
  call,
  client,
  containersOf,
  deploy,
  docker,
  http,
  spec,
  STANDIN_TAG,
  standinImage,
  testConfig,
  useTestAgent,
  waitFor,
} from './harness';

const hostPort = (s: Slot, name = 'gateway') => {
  const p = s.ports.find((x) => x.name === name)!;
  return `${p.hostIp}:${p.hostPort}`;
};
const healthyLast = (evs: { final: boolean; state: SlotState; message: string; slot?: Slot }[]) => {
  const last = evs[evs.length - 1];
  if (!last.final || last.state !== SlotState.SLOT_STATE_HEALTHY)
    throw new Error(`deploy ended ${last.state}: ${last.message}`);
  return last.slot!;
};

/** An orphan: labelled for the node, but with no deployment label (unreadable as a slot). */
async function makeOrphans(nodeId: string) {
  const labels = { 'berth.node': nodeId, 'berth.slot': 'ghost', 'berth.managed': 'true' };
  const c = await docker.createContainer({
    Image: STANDIN_TAG,
    name: `berth-${nodeId}-ghost`,
    Labels: labels,
  });
  const n = await docker.createNetwork({
    Name: `berth-${nodeId}-ghost2`,
    Labels: { ...labels, 'berth.slot': 'ghost2' },
  });
  return { containerId: c.id, networkId: n.id };
}
const exists = (p: Promise<unknown>) =>
  p.then(
    () => true,
    (e: { statusCode?: number }) => {
      if (e.statusCode === 404) return false;
      throw e;
    },
  );

describeWithDocker('node daemon: streams, replace, data dir ownership', () => {
  let agent: NodeAgentHandle;
  let c: NodeAgentClient;
  const t = useTestAgent();
  beforeAll(() => ({ agent, c } = t));

  it('a non-root agent owns a data dir its image does not have, with spec.files, across a restart', async () => {
    // /state does not exist in the stand-in image: the fresh volume root used to stay root's.
    const s = spec(
      'own',
      {
        user: '1000:1000',
        dataMountPath: '/state',
        files: [{ path: 'conf/agent.json', content: '{"a":1}' }],
      },
      { STANDIN_DATA_DIR: '/state' },
    );
    const slot = healthyLast(await deploy(c, s));
    expect((await http(hostPort(slot), '/whoami')).body).toMatchObject({ uid: 1000, gid: 1000 });
    expect((await http(hostPort(slot), '/data?file=conf/agent.json')).body.content).toBe('{"a":1}');
    const put = await http(hostPort(slot), '/data?file=mine.txt', { method: 'PUT', body: 'written by 1000' });
    expect(put.body).toEqual({ written: 15 });
    expect((await http(hostPort(slot), '/data?file=mine.txt')).body.content).toBe('written by 1000');
    await call(c, 'restart', { slotId: 'own' });
    await waitFor(
      async () =>
        (await call<object, Slot>(c, 'getSlot', { slotId: 'own' })).state === SlotState.SLOT_STATE_HEALTHY,
      20000,
      'healthy after restart',
    );
    expect((await http(hostPort(slot), '/data?file=mine.txt')).body.content).toBe('written by 1000');
    // No helper container is left behind.
    expect((await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === 'own')).toHaveLength(
      1,
    );
  });

  it("a named user (USER node) is resolved in the image's /etc/passwd: the data dir is that uid's, not root's", async () => {
    const s = spec('named', { user: 'node', dataMountPath: '/state', files: [{ path: 'agent.json', content: '{}' }] }, { STANDIN_DATA_DIR: '/state' });
    const evs = await deploy(c, s);
    const slot = healthyLast(evs);
    expect(evs.map((e) => e.message)).toContain('data dir owned by 1000:1000; 1 file(s) written to the data volume');
    expect((await http(hostPort(slot), '/whoami')).body).toMatchObject({ uid: 1000, gid: 1000 });
    expect((await http(hostPort(slot), '/data?file=mine.txt', { method: 'PUT', body: 'node wrote this' })).body).toEqual({ written: 15 });

    const unknown = await deploy(c, spec('nameless', { user: 'ghost', dataMountPath: '/state' }, { STANDIN_DATA_DIR: '/state' }));
    const last = unknown[unknown.length - 1];
    expect(last).toMatchObject({ final: true, state: SlotState.SLOT_STATE_FAILED });
    expect(last.message).toMatch(/user 'ghost' is not in its \/etc\/passwd/);
  });

  it('replace=false on an occupied slot is FAILED_PRECONDITION; replace=true swaps agents and keeps the old volume', async () => {
    const first = healthyLast(await deploy(c, spec('rep')));
    await http(hostPort(first), '/data?file=old.txt', { method: 'PUT', body: 'old agent' });
    const next = spec('rep', { agentTypeId: 'standin2' });
    await expect(deploy(c, next)).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    const evs = await deploy(c, next, true);
    expect(evs.map((e) => e.phase)).toContain('replaced');
    const second = healthyLast(evs);
    expect(second.deploymentId).toBe(next.deploymentId);
    await expect(exists(docker.getContainer(first.containerId).inspect())).resolves.toBe(false);
    const mine = (await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === 'rep');
    expect(mine.map((x) => x.Id)).toEqual([second.containerId]);
    await expect(exists(docker.getVolume('berth-rep-standin').inspect())).resolves.toBe(true);
    await expect(exists(docker.getVolume('berth-rep-standin2').inspect())).resolves.toBe(true);
    // The new agent has its own, empty data; the old one's stays in its volume.
    expect((await http(hostPort(second), '/data?file=old.txt')).status).toBe(404);
  });

  it('WatchEvents delivers heartbeats and state changes', async () => {
    const stream = c.watchEvents({ heartbeatIntervalMs: 300 });
    const got: NodeEvent[] = [];
    stream.on('data', (e: NodeEvent) => got.push(e));
    stream.on('error', () => undefined); // CANCELLED when we close it
    try {
      healthyLast(await deploy(c, spec('watch')));
      await waitFor(
        async () => got.filter((e) => e.event?.$case === 'heartbeat').length >= 2,
        5000,
        'two heartbeats',
      );
      const changes = got.flatMap((e) =>
        e.event?.$case === 'slotStateChanged' && e.event.value.slot?.slotId === 'watch'
          ? [e.event.value]
          : [],
      );
      expect(changes.map((x) => x.slot!.state)).toEqual(
        expect.arrayContaining([SlotState.SLOT_STATE_STARTING, SlotState.SLOT_STATE_HEALTHY]),
      );
      const hb = got.find((e) => e.event?.$case === 'heartbeat')!;
      expect(hb.event).toMatchObject({ value: { nodeId: agent.nodeId, synced: true } });
    } finally {
      stream.cancel();
    }
  });

  it('StreamLogs with follow delivers new output, and cancel ends it', async () => {
    const slot = healthyLast(await deploy(c, spec('logs')));
    const stream = c.streamLogs({ slotId: 'logs', tail: 1, follow: true, sinceMs: 0 });
    let text = '';
    stream.on('data', (l: LogChunk) => (text += Buffer.from(l.data).toString()));
    const ended = new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve('end'));
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(text).toBe('standin: listening on 18790 (health /readyz on 18789, behaviour healthy)\n'); // tail 1
    await http(hostPort(slot), '/log?line=fresh-output-1', { method: 'POST' });
    await waitFor(async () => text.includes('standin: fresh-output-1\n'), 10000, 'new log output');
    await http(hostPort(slot), '/log?line=fresh-output-2', { method: 'POST' });
    await waitFor(async () => text.includes('standin: fresh-output-2\n'), 10000, 'more new log output');
    stream.cancel();
    await expect(ended).resolves.toMatchObject({ code: status.CANCELLED });
  });
});

describeWithDocker('node daemon: reaper and Docker going away', () => {
  const started: NodeAgentHandle[] = [];
  const clients: NodeAgentClient[] = [];
  const door = new DockerDoor();
  const savedHost = process.env.DOCKER_HOST;
  beforeAll(() => standinImage());
  afterAll(async () => {
    for (const cl of clients) cl.close();
    for (const a of started) await a.stop();
    await door.shut();
    for (const a of started) await removeDockerObjectsByLabel(`berth.node=${a.nodeId}`);
  });

  it('reaps nothing before the first full sync; then removes orphans past the grace period; survives Docker going away', async () => {
    const cfg = testConfig({ BERTH_NODE_REAP_GRACE_MS: '0', BERTH_NODE_RESYNC_MS: '500' });
    const orphans = await makeOrphans(cfg.BERTH_NODE_ID);
    // The daemon's Docker goes through the door, shut at first: it cannot sync.
    process.env.DOCKER_HOST = door.dockerHost;
    let agent: NodeAgentHandle;
    try {
      agent = await startNodeAgent(cfg);
    } finally {
      if (savedHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = savedHost;
    }
    started.push(agent);
    const c = client(agent.grpcAddress, agent.token, agent.certPem);
    clients.push(c);
    await new Promise((r) => setTimeout(r, 1500));
    expect(agent.slots.synced).toBe(false);
    await expect(deploy(c, spec('early'))).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(exists(docker.getContainer(orphans.containerId).inspect())).resolves.toBe(true);
    await expect(exists(docker.getNetwork(orphans.networkId).inspect())).resolves.toBe(true);

    await door.open();
    await agent.ready;
    await waitFor(
      async () =>
        !(await exists(docker.getContainer(orphans.containerId).inspect())) &&
        !(await exists(docker.getNetwork(orphans.networkId).inspect())),
      15000,
      'the orphans to be reaped',
    );
    const metrics = (await http(agent.metricsAddress, '/metrics')).body as string;
    expect(metrics).toMatch(/berth_node_reaped_total\{kind="container",dry_run="false"\} [1-9]/);

    // Docker goes away while a slot runs: the slot keeps running, the daemon answers UNAVAILABLE.
    const slot = healthyLast(await deploy(c, spec('live')));
    await door.shut();
    await waitFor(
      async () => !(await call<object, Capacity>(c, 'getCapacity', {})).dockerUp,
      10000,
      'the daemon to notice Docker is gone',
    );
    await expect(deploy(c, spec('while-down'))).rejects.toMatchObject({ code: status.UNAVAILABLE });
    expect((await http(hostPort(slot), '/readyz')).status).toBe(200);

    // Docker comes back: the daemon resyncs, and follows the engine's events again.
    await door.open();
    await waitFor(
      async () => (await call<object, Capacity>(c, 'getCapacity', {})).dockerUp,
      15000,
      'the daemon to see Docker again',
    );
    expect((await call<object, Slot>(c, 'getSlot', { slotId: 'live' })).state).toBe(
      SlotState.SLOT_STATE_HEALTHY,
    );
    await docker.getContainer(slot.containerId).stop({ t: 1 });
    await waitFor(
      async () =>
        (await call<object, Slot>(c, 'getSlot', { slotId: 'live' })).state !== SlotState.SLOT_STATE_HEALTHY,
      15000,
      'the daemon to see the container stop',
    );
    healthyLast(await deploy(c, spec('after')));
  });

  it('with BERTH_NODE_REAP_DRY_RUN it only counts and logs', async () => {
    const cfg = testConfig({
      BERTH_NODE_REAP_GRACE_MS: '0',
      BERTH_NODE_RESYNC_MS: '300',
      BERTH_NODE_REAP_DRY_RUN: 'true',
    });
    const orphans = await makeOrphans(cfg.BERTH_NODE_ID);
    const lines: string[] = [];
    const agent = await startNodeAgent(cfg, {
      logger: createLogger('info', cfg.BERTH_NODE_ID, (l) => lines.push(l)),
    });
    started.push(agent);
    await agent.ready;
    await waitFor(
      async () =>
        /berth_node_reaped_total\{kind="container",dry_run="true"\} [2-9]/.test(
          (await http(agent.metricsAddress, '/metrics')).body,
        ),
      10000,
      'two dry-run passes counted',
    );
    expect(lines.join('\n')).toContain('would reap orphan container (dry run)');
    expect(lines.join('\n')).toContain('would remove unused slot network (dry run)');
    await expect(exists(docker.getContainer(orphans.containerId).inspect())).resolves.toBe(true);
    await expect(exists(docker.getNetwork(orphans.networkId).inspect())).resolves.toBe(true);
  });
});
