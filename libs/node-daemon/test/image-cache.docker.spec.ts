import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pack } from 'tar-stream';
import { NodeEvent, NodeAgentClient, PullImageEvent, RegistryAuth, SlotState, toProtoDeploySpec, DeployEvent } from '@berth/proto';
import { describeWithDocker, removeDockerObjectsByLabel, TestRegistry, waitFor } from '@berth/testing';
import { NodeAgentHandle, startNodeAgent } from '../src/node-agent';
import { call, client, collect, docker, spec, standinImage, testConfig } from './harness';

const MiB = 1024 * 1024;

/** An image FROM `base` with one layer of its own: `padBytes` of zeros (tiny compressed, large on disk) and its name. */
async function buildPadded(base: string, tag: string, name: string, padBytes: number): Promise<void> {
  const tar = pack();
  tar.entry({ name: 'Dockerfile' }, `FROM ${base}\nCOPY pad-${name} /pad-${name}\n`);
  tar.entry({ name: `pad-${name}` }, Buffer.concat([Buffer.alloc(padBytes), Buffer.from(name)]));
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, { t: tag, rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = err ?? out.find((l) => l.error)?.error;
      if (failed) reject(failed instanceof Error ? failed : new Error(failed));
      else resolve();
    }),
  );
}

/** `docker system df`'s image size; the engine runs one at a time ("already running": try again). */
async function imageDiskUse(): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return ((await docker.df()) as { LayersSize: number }).LayersSize;
    } catch (e) {
      if (attempt >= 20 || !/already running/.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

/**
 * The image cache against the real engine and a real registry: with a small budget, pulling a
 * new image evicts the least recently used unused image the daemon pulled, never one a slot's
 * container uses nor a kept one; the kept list and what was pulled survive a daemon restart.
 * The engine is shared with other suites, so the budget is set from the disk use measured just
 * before plus 64 MiB, and the old and new images take 128 MiB each on disk (zeros: about 128 KiB
 * to download), so the new one passes the budget and evicting the old one brings it back under, even
 * when other suites move the engine's disk use by tens of MiB meanwhile.
 */
describeWithDocker('node daemon: image cache eviction under BERTH_NODE_IMAGE_BUDGET', () => {
  const u = randomBytes(4).toString('hex');
  let registry: TestRegistry;
  let auth: RegistryAuth;
  const agents: NodeAgentHandle[] = [];
  const clients: NodeAgentClient[] = [];
  const ref = (name: string) => `${registry.host}/berth-${u}/${name}:1.0`;
  const onNode = (image: string) => docker.getImage(image).inspect().then(() => true, () => false);

  beforeAll(async () => {
    registry = await TestRegistry.start();
    auth = { server: registry.host, ...registry.auth() };
    // The shared stand-in as the base: its layers stay on the node, only each image's own layer is pulled.
    const baseTag = await standinImage();
    for (const [name, pad] of [['kept', 1024], ['slot', 1024], ['old', 128 * MiB], ['new', 128 * MiB]] as const) {
      const local = `berth-test/cache-${name}-${u}:1`;
      await buildPadded(baseTag, local, `${name}-${u}`, pad);
      await docker.getImage((await registry.push(local, `berth-${u}/${name}:1.0`, docker)).ref).remove();
      await docker.getImage(local).remove();
    }
  }, 300_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const a of agents) await a.stop().catch(() => undefined);
    if (agents[0]) await removeDockerObjectsByLabel(`berth.node=${agents[0].nodeId}`);
    if (!registry) return;
    await registry.destroy();
    const left = await docker.listImages({ filters: JSON.stringify({ reference: [`${registry.host}/berth-${u}/*`] }) });
    await Promise.all(left.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => undefined)));
  });

  const start = async (config: ReturnType<typeof testConfig>) => {
    const a = await startNodeAgent(config);
    agents.push(a);
    await a.ready;
    const c = client(a.grpcAddress, a.token, a.certPem, a.fingerprintSha256);
    clients.push(c);
    return { a, c };
  };
  const pull = async (c: NodeAgentClient, image: string) => {
    const events = await collect<PullImageEvent>(c.pullImage({ image, registryAuth: auth }));
    const last = events[events.length - 1];
    if (!last.ok) throw new Error(`pull of ${image} failed: ${last.message}`);
    return last;
  };

  it('evicts an unused image it pulled, never one a slot uses nor a kept one, and keeps its list across a restart', async () => {
    const config = testConfig({ BERTH_NODE_IMAGE_BUDGET: '1TiB' });
    const first = await start(config);
    // Pulled in this order, so without protection kept and slot would be the first to go.
    await pull(first.c, ref('kept'));
    await pull(first.c, ref('slot'));
    const events = await collect<DeployEvent>(
      first.c.deploy({ spec: toProtoDeploySpec(spec(`slot-${u}`, { image: ref('slot') })), replace: false }),
    );
    const slot = events[events.length - 1];
    expect(slot.state).toBe(SlotState.SLOT_STATE_HEALTHY);
    await call(first.c, 'setKeptImages', { images: [ref('kept')] });
    await pull(first.c, ref('old'));
    await first.a.stop();
    agents.splice(agents.indexOf(first.a), 1);

    // Restarted with a budget 64 MiB above the disk use: the new image fits to download, not on disk.
    const used = await imageDiskUse();
    const second = await start({ ...config, BERTH_NODE_IMAGE_BUDGET: used + 64 * MiB });
    const last = await pull(second.c, ref('new'));
    expect(last.cached).toBe(false);

    await waitFor(async () => !(await onNode(ref('old'))), 30_000, 'the old image evicted');
    expect(await onNode(ref('kept'))).toBe(true);
    expect(await onNode(ref('slot'))).toBe(true);
    expect(await onNode(ref('new'))).toBe(true);
    expect((await docker.getContainer(slot.slot!.containerId).inspect()).State.Running).toBe(true);

    const metrics = await (await fetch(`http://${second.a.metricsAddress}/metrics`)).text();
    expect(Number(/^berth_node_image_evictions_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(fs.readFileSync(`${config.BERTH_NODE_STATE_DIR}/images.json`, 'utf8')).kept).toEqual([ref('kept')]);

    // Heartbeats carry the engine's image bytes (the last value read, no engine call each).
    const watch = second.c.watchEvents({ heartbeatIntervalMs: 250 });
    const beat = await new Promise<NodeEvent>((resolve, reject) => {
      watch.on('data', (e: NodeEvent) => e.event?.$case === 'heartbeat' && resolve(e));
      watch.on('error', reject);
    });
    watch.cancel();
    expect(beat.event?.$case === 'heartbeat' && beat.event.value.imageBytes).toBeGreaterThan(0);
  });
});
