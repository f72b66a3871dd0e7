import * as net from 'node:net';
import { status } from '@grpc/grpc-js';
import { MiB } from '@berth/domain';
import {
  createNodeAgentClient,
  NodeAgentClient,
  Slot,
  SlotState,
  toProtoDeploySpec,
  Capacity,
  NodeInfo,
} from '@berth/proto';
import { describeWithDocker, removeDockerObjectsByLabel } from '@berth/testing';
import { NodeAgentHandle, startNodeAgent } from '../src/node-agent';
import {
  call,
  client,
  collect,
  containersOf,
  deploy,
  docker,
  http,
  spec,
  standinImage,
  testConfig,
  useTestAgent,
  waitFor,
} from './harness';

describeWithDocker('node daemon against a real Docker engine', () => {
  let agent: NodeAgentHandle;
  let c: NodeAgentClient;
  const hostPort = (s: Slot, name = 'gateway') => {
    const p = s.ports.find((x) => x.name === name)!;
    return `${p.hostIp}:${p.hostPort}`;
  };
  const deployHealthy = async (s = spec(`s${Math.random().toString(36).slice(2, 8)}`)) => {
    const events = await deploy(c, s);
    const last = events[events.length - 1];
    expect(last.final).toBe(true);
    if (last.state !== SlotState.SLOT_STATE_HEALTHY)
      throw new Error(`deploy ended ${last.state}: ${last.message}`);
    return last.slot!;
  };

  const t = useTestAgent();
  beforeAll(() => ({ agent, c } = t));

  it('deploys to healthy with the hardening, env and files in place, and reports it', async () => {
    const s = spec('hard', {}, { OPENAI_API_KEY: 'sk-test-secret-123' });
    const events = await deploy(c, s);
    const phases = events.map((e) => e.phase);
    expect(phases).toEqual(
      expect.arrayContaining([
        'accepted',
        'ports_allocated',
        'container_created',
        'files_written',
        'container_started',
        'healthy',
      ]),
    );
    const slot = events[events.length - 1].slot!;
    expect(slot.state).toBe(SlotState.SLOT_STATE_HEALTHY);
    expect(slot.ports.map((p) => p.hostIp)).toEqual(['127.0.0.1', '127.0.0.1']);

    const env = await http(hostPort(slot), '/env');
    expect(env.body.OPENAI_API_KEY).toBe('sk-test-secret-123');
    expect((await http(hostPort(slot, 'bridge'), '/whoami')).body.port).toBe(18790);
    expect((await http(hostPort(slot), '/data?file=config/agent.json')).body.content).toContain(
      '"mode":"local"',
    );
    expect((await http(hostPort(slot), '/rootfs-write')).body.ok).toBe(false); // read-only rootfs

    const info = await docker.getContainer(slot.containerId).inspect();
    const hc = info.HostConfig;
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toContain('no-new-privileges:true');
    expect(hc.Privileged).toBe(false);
    expect(hc.Memory).toBe(128 * MiB);
    expect(hc.MemorySwap).toBe(128 * MiB);
    expect(hc.NanoCpus).toBe(250_000_000);
    expect(hc.PidsLimit).toBe(64);
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(hc.Binds ?? []).toEqual([]);
    expect(info.Mounts.map((m) => [m.Type, m.Name, m.Destination])).toEqual([
      ['volume', 'berth-hard-standin', '/data'],
    ]);
    expect(info.Config.Labels).toMatchObject({
      'berth.slot': 'hard',
      'berth.customer': 'cust-hard',
      'berth.deployment': s.deploymentId,
      'berth.node': agent.nodeId,
    });
    const net = await docker.getNetwork(hc.NetworkMode!).inspect();
    expect(net.Options?.['com.docker.network.bridge.enable_icc']).toBe('false');

    const cap = await call<object, Capacity>(c, 'getCapacity', {});
    expect(cap.allocatedMemoryBytes).toBeGreaterThanOrEqual(128 * MiB);
    expect(cap.slotsByState.healthy).toBeGreaterThanOrEqual(1);
    const metrics = await http(agent.metricsAddress, '/metrics');
    expect(metrics.body).toMatch(/berth_node_slots\{state="healthy"\} [1-9]/);
    expect(metrics.body).toMatch(/berth_node_probe_duration_seconds_bucket/);
    expect(metrics.body).toMatch(/berth_node_deploy_duration_seconds_count\{result="healthy"\} [1-9]/);
    const info2 = await call<object, NodeInfo>(c, 'getInfo', {});
    expect(info2).toMatchObject({
      nodeId: agent.nodeId,
      protocolVersions: ['berth.node.v1'],
      tlsFingerprintSha256: agent.fingerprintSha256,
    });
    expect(info2.dockerVersion).toMatch(/\d+\.\d+/);

    const logs = await collect(c.streamLogs({ slotId: 'hard', tail: 10, follow: false, sinceMs: 0 }));
    expect(Buffer.concat(logs.map((l) => Buffer.from(l.data))).toString()).toContain('listening on 18789');
  });

  it('keeps data across restart and stop/start', async () => {
    const slot = await deployHealthy(spec('keep'));
    expect(
      (await http(hostPort(slot), '/data?file=note.txt', { method: 'PUT', body: 'remember me' })).body,
    ).toEqual({ written: 11 });
    await call(c, 'restart', { slotId: 'keep' });
    await waitFor(
      async () =>
        (await call<object, Slot>(c, 'getSlot', { slotId: 'keep' })).state === SlotState.SLOT_STATE_HEALTHY,
      20000,
      'healthy after restart',
    );
    expect((await http(hostPort(slot), '/data?file=note.txt')).body.content).toBe('remember me');
    expect((await call<object, Slot>(c, 'stop', { slotId: 'keep' })).state).toBe(
      SlotState.SLOT_STATE_STOPPED,
    );
    await call(c, 'start', { slotId: 'keep' });
    await waitFor(
      async () =>
        (await call<object, Slot>(c, 'getSlot', { slotId: 'keep' })).state === SlotState.SLOT_STATE_HEALTHY,
      20000,
      'healthy after start',
    );
    expect((await http(hostPort(slot), '/data?file=note.txt')).body.content).toBe('remember me');
    const updated = await call<object, Slot>(c, 'updateResources', {
      slotId: 'keep',
      resources: { memoryBytes: 256 * MiB, nanoCpus: 500_000_000, pidsLimit: 128 },
    });
    expect(updated.resources!.memoryBytes).toBe(256 * MiB);
    expect((await docker.getContainer(slot.containerId).inspect()).HostConfig.Memory).toBe(256 * MiB);
  });

  it('terminate frees the ports and removes container and network, keeping the data volume', async () => {
    const slot = await deployHealthy(spec('term'));
    const before = await call<object, Capacity>(c, 'getCapacity', {});
    await call(c, 'terminate', { slotId: 'term', purgeData: false });
    const after = await call<object, Capacity>(c, 'getCapacity', {});
    expect(after.portsFree).toBe(before.portsFree + 2);
    expect((await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === 'term')).toHaveLength(
      0,
    );
    await expect(docker.getNetwork(`berth-${agent.nodeId}-term`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(docker.getVolume('berth-term-standin').inspect()).resolves.toBeDefined();
    await expect(call(c, 'getSlot', { slotId: 'term' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    for (const p of slot.ports) expect(agent.slots.pool.ownerOf(p.hostPort)).toBeUndefined();
  });

  it('a retried Deploy (also concurrent) makes exactly one container', async () => {
    const s = spec('retry');
    const [a, b] = await Promise.all([deploy(c, s), deploy(c, s)]);
    const again = await deploy(c, s);
    for (const evs of [a, b, again]) expect(evs[evs.length - 1].state).toBe(SlotState.SLOT_STATE_HEALTHY);
    expect((await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === 'retry')).toHaveLength(
      1,
    );
    // A different deployment for the same slot is refused unless replace=true.
    await expect(deploy(c, spec('retry'))).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
  });

  it('concurrent deploys never share a port, and one slot cannot reach another', async () => {
    const slots = await Promise.all(['iso-a', 'iso-b', 'iso-c'].map((id) => deployHealthy(spec(id))));
    const ports = slots.flatMap((s) => s.ports.map((p) => p.hostPort));
    expect(new Set(ports).size).toBe(ports.length);
    const [a, b] = slots;
    const bIp = Object.values(
      (await docker.getContainer(b.containerId).inspect()).NetworkSettings.Networks,
    )[0].IPAddress;
    // The host reaches b directly (the target is alive)...
    const direct = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: bIp, port: 18789 }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    expect(direct).toBe(true);
    // ...a does not.
    const fromA = await http(hostPort(a), `/connect?host=${bIp}&port=18789&timeoutMs=1500`);
    expect(fromA.body.ok).toBe(false);
  });

  it('a memory hog is killed while its neighbour keeps running; a fork bomb stops at the PIDs limit', async () => {
    const [hog, neighbour] = await Promise.all([
      deployHealthy(
        spec('hog', { resources: { memoryBytes: 64 * MiB, nanoCpus: 250_000_000, pidsLimit: 64 } }),
      ),
      deployHealthy(spec('calm')),
    ]);
    await http(hostPort(hog), '/hog', { method: 'POST' }).catch(() => undefined);
    await waitFor(
      async () => {
        const i = await docker.getContainer(hog.containerId).inspect();
        return i.State.OOMKilled || i.RestartCount > 0;
      },
      30000,
      'the hog to be OOM-killed',
    );
    expect((await http(hostPort(neighbour), '/readyz')).status).toBe(200);
    expect((await call<object, Slot>(c, 'getSlot', { slotId: 'calm' })).state).toBe(
      SlotState.SLOT_STATE_HEALTHY,
    );

    const fork = await http(hostPort(neighbour), '/fork?max=500', { method: 'POST' });
    expect(fork.body.spawned).toBeLessThan(64);
    expect(fork.body.error).toBeTruthy();
    const pids = (
      (await docker.getContainer(neighbour.containerId).stats({ stream: false })) as unknown as {
        pids_stats: { current: number };
      }
    ).pids_stats.current;
    expect(pids).toBeLessThanOrEqual(64);
  });

  it('a never-healthy slot ends failed, its container removed and its ports freed', async () => {
    const free = (await call<object, Capacity>(c, 'getCapacity', {})).portsFree;
    const s = spec(
      'sick',
      {
        health: {
          path: '/readyz',
          portName: 'gateway',
          startPeriodMs: 1500,
          intervalMs: 300,
          timeoutMs: 500,
          failureThreshold: 2,
        },
      },
      { STANDIN_BEHAVIOUR: 'never-healthy' },
    );
    const events = await deploy(c, s);
    const last = events[events.length - 1];
    expect(last.state).toBe(SlotState.SLOT_STATE_FAILED);
    expect(last.message).toMatch(/never became healthy/);
    expect((await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === 'sick')).toHaveLength(
      0,
    );
    expect((await call<object, Capacity>(c, 'getCapacity', {})).portsFree).toBe(free);
  });

  it('refuses a policy-breaking spec (INVALID_ARGUMENT), an unauthenticated call, and a wrong certificate pin', async () => {
    await expect(deploy(c, spec('bad', { capAdd: ['SYS_ADMIN'] }))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    const raw = toProtoDeploySpec(spec('bad2'));
    raw.dataMountPath = '/';
    await expect(collect(c.deploy({ spec: raw, replace: false }))).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    const noToken = createNodeAgentClient(agent.grpcAddress, {
      token: 'wrong-token-wrong-token',
      serverCertPem: agent.certPem,
      fingerprintSha256: agent.fingerprintSha256,
    });
    await expect(call(noToken, 'listSlots', {})).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    await expect(
      collect(noToken.deploy({ spec: toProtoDeploySpec(spec('x')), replace: false })),
    ).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    noToken.close();
    const wrongPin = createNodeAgentClient(agent.grpcAddress, {
      token: agent.token,
      serverCertPem: agent.certPem,
      fingerprintSha256: 'AA:BB',
    });
    await expect(call(wrongPin, 'getInfo', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
    wrongPin.close();
    await expect(
      deploy(c, spec('huge', { resources: { memoryBytes: 64 * 1024 * MiB, nanoCpus: 1e9, pidsLimit: 64 } })),
    ).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED });
  });
});

describeWithDocker('node daemon with a tiny port pool', () => {
  let agent: NodeAgentHandle;
  let c: NodeAgentClient;
  beforeAll(async () => {
    await standinImage();
    const from = 30000 + Math.floor(Math.random() * 900); // below the ephemeral range, see harness.ts
    agent = await startNodeAgent(testConfig({ BERTH_NODE_PORT_RANGE: `${from}-${from + 2}` }));
    await agent.ready;
    c = client(agent.grpcAddress, agent.token, agent.certPem);
  });
  afterAll(async () => {
    c?.close();
    await agent?.stop();
    if (agent) await removeDockerObjectsByLabel(`berth.node=${agent.nodeId}`);
  });

  it('answers RESOURCE_EXHAUSTED when the pool is empty, and a failed deploy gives its ports back', async () => {
    const first = await deploy(c, spec('p1'));
    expect(first[first.length - 1].state).toBe(SlotState.SLOT_STATE_HEALTHY);
    await expect(deploy(c, spec('p2'))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringMatching(/port pool/),
    });
    const crash = await deploy(
      c,
      spec(
        'p3',
        {
          ports: [{ name: 'gateway', containerPort: 18789, publish: true }],
          health: {
            path: '/readyz',
            portName: 'gateway',
            startPeriodMs: 1000,
            intervalMs: 300,
            timeoutMs: 500,
            failureThreshold: 2,
          },
        },
        // Never ready in its short life, so a probe cannot catch it healthy between crashes.
        { STANDIN_BEHAVIOUR: 'crash', STANDIN_CRASH_AFTER_MS: '100', STANDIN_START_DELAY_MS: '600000' },
      ),
    );
    const last = crash[crash.length - 1];
    expect(crash.filter((e) => e.final)).toEqual([last]);
    expect(last).toMatchObject({ final: true, phase: 'failed', state: SlotState.SLOT_STATE_FAILED });
    expect(last.slot!.state).toBe(SlotState.SLOT_STATE_FAILED);
    expect(last.message).toMatch(/never became healthy|exited/);
    expect((await call<object, Capacity>(c, 'getCapacity', {})).portsFree).toBe(1);
  });
});
