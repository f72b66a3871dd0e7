import { randomBytes } from 'node:crypto';
import { SlotDeploySpec } from '@berth/domain';
import {
  DeployEvent,
  FailureReason,
  NodeAgentClient,
  PullImageEvent,
  RegistryAuth,
  Slot,
  SlotState,
  toProtoDeploySpec,
} from '@berth/proto';
import { buildStandinImage, describeWithDocker, removeDockerObjectsByLabel, TestRegistry } from '@berth/testing';
import { NodeAgentHandle, startNodeAgent } from '../src/node-agent';
import { call, client, collect, containersOf, docker, spec, testConfig, useTestAgent } from './harness';

/**
 * Images through the daemon's gRPC Deploy and PullImage, against a real registry (TestRegistry:
 * Debian's distribution registry with htpasswd auth) and the real engine. Every image is unique to
 * the run (its own repositories, and a layer of its own: the stand-in's data dir name), so the
 * node's cache starts empty for it; afterAll removes what was pulled.
 */
describeWithDocker('node daemon: pulling, caching and reporting images from a registry', () => {
  const u = randomBytes(4).toString('hex');
  const dataDir = `/data-${u}`;
  const localTag = `berth-test/images-${u}:1`;
  let registry: TestRegistry;
  let auth: RegistryAuth;
  let agent: NodeAgentHandle;
  let c: NodeAgentClient;
  const t = useTestAgent();
  const ref = (repo: string, tag = '1.0') => `${registry.host}/berth-${u}/${repo}:${tag}`;

  beforeAll(async () => {
    ({ agent, c } = t);
    registry = await TestRegistry.start();
    auth = { server: registry.host, ...registry.auth() };
    await buildStandinImage({ tag: localTag, ports: [18789, 18790], healthPath: '/readyz', healthPort: 18789, dataDir });
    // One image under several repositories; none of its tags stays on the node.
    for (const repo of ['agent', 'secret', 'big', 'five', 'pre', 'next'])
      await docker.getImage((await registry.push(localTag, `berth-${u}/${repo}:1.0`, docker)).ref).remove();
    await docker.getImage(localTag).remove();
  }, 300_000);

  afterAll(async () => {
    if (!registry) return;
    await registry.destroy();
    const left = await docker.listImages({ filters: JSON.stringify({ reference: [`${registry.host}/berth-${u}/*`] }) });
    await Promise.all(left.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
    await docker.getImage(localTag).remove({ force: true }).catch(() => undefined);
  });

  const slotSpec = (slot: string, image: string, over: Partial<SlotDeploySpec> = {}) =>
    spec(`${slot}-${u}`, { image, dataMountPath: dataDir, ...over });
  const deploy = (agentClient: NodeAgentClient, s: SlotDeploySpec, registryAuth?: RegistryAuth, replace = false) =>
    collect<DeployEvent>(agentClient.deploy({ spec: toProtoDeploySpec(s), replace, registryAuth }));
  const healthy = (events: DeployEvent[]): Slot => {
    const last = events[events.length - 1];
    if (!last.final || last.state !== SlotState.SLOT_STATE_HEALTHY) throw new Error(`deploy ended ${last.state}: ${last.message}`);
    return last.slot!;
  };
  const phases = (events: DeployEvent[]) => events.map((e) => e.phase);
  const digestAt = async (repo: string) => `${registry.host}/berth-${u}/${repo}@${await registry.digestOf(`berth-${u}/${repo}`, '1.0')}`;
  const onNode = (image: string) => docker.getImage(image).inspect().then(() => true, () => false);
  const pullsOk = async (a: NodeAgentHandle) => {
    const text = await (await fetch(`http://${a.metricsAddress}/metrics`)).text();
    return Number(/^berth_node_image_pulls_total\{result="ok"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };

  /** A failed deploy: its reason, within the time, and nothing of it left (no container, network or ports). */
  const expectFailedClean = async (s: SlotDeploySpec, registryAuth: RegistryAuth | undefined, reason: FailureReason, message: RegExp) => {
    const freeBefore = agent.slots.pool.free;
    const started = Date.now();
    const events = await deploy(c, s, registryAuth);
    expect(Date.now() - started).toBeLessThan(15_000);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ final: true, phase: 'failed', state: SlotState.SLOT_STATE_FAILED, failureReason: reason });
    expect(last.message).toMatch(message);
    expect(last.message).not.toContain(auth.password);
    expect(last.slot!.ports).toEqual([]);
    expect(phases(events)).not.toContain('ports_allocated');
    expect(agent.slots.pool.free).toBe(freeBefore);
    expect((await containersOf(agent.nodeId)).filter((x) => x.Labels['berth.slot'] === s.slotId)).toEqual([]);
    const nets = await docker.listNetworks({ filters: JSON.stringify({ label: [`berth.slot=${s.slotId}`] }) });
    expect(nets).toEqual([]);
    expect(await onNode(s.image)).toBe(false);
    return last;
  };

  it('stops a pull that would pass the image budget (image_too_large), leaving nothing', async () => {
    const small = await startNodeAgent(testConfig({ BERTH_NODE_IMAGE_BUDGET: '1MiB' }));
    try {
      await small.ready;
      const sc = client(small.grpcAddress, small.token, small.certPem, small.fingerprintSha256);
      const events = await deploy(sc, slotSpec('big', ref('big')), auth);
      sc.close();
      const last = events[events.length - 1];
      expect(last).toMatchObject({ state: SlotState.SLOT_STATE_FAILED, failureReason: FailureReason.FAILURE_REASON_IMAGE_TOO_LARGE });
      expect(last.message).toMatch(/does not fit in this node's image budget: its layers need at least .* of 1\.0 MiB is left/);
      expect(small.slots.pool.free).toBe(small.slots.pool.total);
      expect(await containersOf(small.nodeId)).toEqual([]);
      expect(await onNode(ref('big'))).toBe(false);
    } finally {
      await small.stop();
      await removeDockerObjectsByLabel(`berth.node=${small.nodeId}`);
    }
  });

  it('deploys from an empty cache by pulling, with progress, and records the registry digest', async () => {
    const events = await deploy(c, slotSpec('cold', ref('agent')), auth);
    const slot = healthy(events);
    const p = phases(events);
    expect(p.indexOf('image_pull')).toBeGreaterThan(0);
    expect(p.lastIndexOf('image_pull')).toBeLessThan(p.indexOf('image_ready'));
    expect(p.indexOf('image_ready')).toBeLessThan(p.indexOf('ports_allocated'));
    const pulls = events.filter((e) => e.phase === 'image_pull').map((e) => e.pull!);
    expect(pulls.some((x) => x.bytesTotal > 1_000_000 && x.bytesDone > 0)).toBe(true);
    expect(pulls.some((x) => x.layersTotal > 0 && x.layersDone === x.layersTotal)).toBe(true);
    for (let i = 1; i < pulls.length; i++) expect(pulls[i].bytesDone).toBeGreaterThanOrEqual(pulls[i - 1].bytesDone);

    const digest = await digestAt('agent');
    expect(slot.imageDigest).toBe(digest);
    expect(events.find((e) => e.phase === 'image_ready')!.message).toContain(`pulled in`);
    expect(events.find((e) => e.phase === 'image_ready')!.message).toContain(digest);
    const info = await docker.getContainer(slot.containerId).inspect();
    expect(info.Config.Labels['berth.image-digest']).toBe(digest);
    expect((await call<{ slotId: string }, Slot>(c, 'getSlot', { slotId: slot.slotId })).imageDigest).toBe(digest);
  });

  it('deploys a cached pinned image while the registry is down, with no pull', async () => {
    await registry.stop();
    try {
      const events = await deploy(c, slotSpec('cached', ref('agent')));
      const slot = healthy(events);
      expect(phases(events)).not.toContain('image_pull');
      expect(events.find((e) => e.phase === 'image_ready')!.message).toMatch(/cached on this node/);
      expect(slot.imageDigest).toMatch(new RegExp(`^${registry.host}/berth-${u}/agent@sha256:[a-f0-9]{64}$`));
    } finally {
      await registry.resume();
    }
  });

  it('a wrong password ends failed as registry_auth', async () => {
    await expectFailedClean(slotSpec('wrongpw', ref('secret')), { ...auth, password: 'not-the-password' }, FailureReason.FAILURE_REASON_REGISTRY_AUTH, /registry 127\.0\.0\.1:\d+ refused the credentials/);
    await expectFailedClean(slotSpec('nocreds', ref('secret')), undefined, FailureReason.FAILURE_REASON_REGISTRY_AUTH, /wants credentials .* and none are configured/);
  });

  it('an unknown tag ends failed as image_not_found', async () => {
    await expectFailedClean(slotSpec('notag', ref('agent', '9.9')), auth, FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND, /image .*agent:9\.9 not found: registry .* has no such repository, tag or digest/);
  });

  it('a stopped registry ends failed as registry_unreachable', async () => {
    await registry.stop();
    try {
      await expectFailedClean(slotSpec('down', ref('secret')), auth, FailureReason.FAILURE_REASON_REGISTRY_UNREACHABLE, /registry 127\.0\.0\.1:\d+ is unreachable: .*connection refused/);
    } finally {
      await registry.resume();
    }
  });

  it('a switch to an image that cannot be pulled leaves the running agent running', async () => {
    const first = healthy(await deploy(c, slotSpec('switch', ref('agent')), auth));
    const events = await deploy(c, slotSpec('switch', ref('agent', '7.7')), auth, true);
    expect(events[events.length - 1]).toMatchObject({ state: SlotState.SLOT_STATE_FAILED, failureReason: FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND });
    const now = await call<{ slotId: string }, Slot>(c, 'getSlot', { slotId: first.slotId });
    expect(now).toMatchObject({ deploymentId: first.deploymentId, containerId: first.containerId, state: SlotState.SLOT_STATE_HEALTHY });
    expect(now.ports).toEqual(first.ports);
    expect((await docker.getContainer(first.containerId).inspect()).State.Running).toBe(true);
  });

  it('five simultaneous deploys needing one uncached image make one pull', async () => {
    const before = await pullsOk(agent);
    const resolved = registry.tagResolutions(`berth-${u}/five`, '1.0');
    const all = await Promise.all([1, 2, 3, 4, 5].map((i) => deploy(c, slotSpec(`five${i}`, ref('five')), auth)));
    const slots = all.map(healthy);
    expect(registry.tagResolutions(`berth-${u}/five`, '1.0') - resolved).toBe(1);
    expect((await pullsOk(agent)) - before).toBe(1);
    const digest = await digestAt('five');
    expect(slots.map((s) => s.imageDigest)).toEqual(Array(5).fill(digest));
  });

  it('PullImage pre-pulls, so a later Deploy makes no pull', async () => {
    const image = ref('pre');
    const resolved = registry.tagResolutions(`berth-${u}/pre`, '1.0');
    const events = await collect<PullImageEvent>(c.pullImage({ image, registryAuth: auth }));
    const last = events[events.length - 1];
    expect(events.filter((e) => e.final)).toEqual([last]);
    expect(last).toMatchObject({ final: true, ok: true, cached: false, failureReason: FailureReason.FAILURE_REASON_UNSPECIFIED });
    expect(events.length).toBeGreaterThan(1);
    expect(await onNode(image)).toBe(true);
    const again = await collect<PullImageEvent>(c.pullImage({ image }));
    expect(again).toEqual([expect.objectContaining({ final: true, ok: true, cached: true, digest: last.digest })]);

    const deployEvents = await deploy(c, slotSpec('pre', image));
    expect(healthy(deployEvents).imageDigest).toBe(last.digest);
    expect(phases(deployEvents)).not.toContain('image_pull');
    expect(registry.tagResolutions(`berth-${u}/pre`, '1.0') - resolved).toBe(1);
    expect(last.digest).toBe(await digestAt('pre'));

    const failed = await collect<PullImageEvent>(c.pullImage({ image: ref('next', '0.0'), registryAuth: auth }));
    expect(failed[failed.length - 1]).toMatchObject({ final: true, ok: false, failureReason: FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND });
    await expect(collect(c.pullImage({ image: `${registry.host}/berth-${u}/next:latest` }))).rejects.toMatchObject({ code: 3 });
  });
});
