/**
 * The image-pull bench's second figure: signup-to-healthy on a node that pre-pulled the agent's
 * image from a registry (the coordinator's pre-pull after PATCH /api/admin/agent-types) vs on a
 * node that had the image already (built there), through the whole pipeline.
 *
 * One coordinator with an in-process node daemon. The stand-in image is built on the engine
 * (`.../standin:prepull-local`, "had it already") and the same image pushed to the registry under
 * another name, whose local tag is removed again so the node does not have that reference. Each
 * "pre-pulled" round pins Myrai to the registry reference and waits until the node reports it
 * present (the pre-pull), then signs up; each "already there" round pins Myrai to the local tag.
 * Rounds alternate. A pre-pulled round whose deployment still shows an `image_pull` event is an
 * error: the figure would not be what it says.
 */
import type { ObservedEvent } from './coordinator';
import { startBenchCoordinator, type BenchCoordinator } from './coordinator';
import { signupRound, terminateSlot } from './signup';
import { median, waitFor } from './stats';
import { buildStandinImage, testDocker, type TestRegistry } from '@berth/testing';

const AGENT = 'myrai';
const docker = testDocker();

export interface PrepullFigure {
  prepulledMs: number[];
  localMs: number[];
}

async function pin(b: BenchCoordinator, image: string): Promise<void> {
  const r = await b.request('PATCH', `/api/admin/agent-types/${AGENT}`, { base_image: image }, b.admin);
  if (r.status !== 200) throw new Error(`pinning ${image}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
}

/** Waits until the node reports `image` present (the coordinator's pre-pull finished). */
async function prePulled(b: BenchCoordinator, image: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await b.request('GET', '/api/admin/nodes', undefined, b.admin);
      const nodes = (r.body.nodes ?? r.body) as { name: string; images: { image: string; state: string; failure_message?: string }[] }[];
      const held = nodes.find((n) => n.name === b.nodeId)?.images.find((i) => i.image === image);
      if (held?.state === 'failed') throw new Error(`pre-pull of ${image} failed: ${held.failure_message}`);
      return held?.state === 'present';
    },
    120_000,
    `the node to pre-pull ${image}`,
  );
}

const pulled = (events: ObservedEvent[]) => events.some((e) => e.type === 'image_pull');

export async function measurePrepullSignup(registry: TestRegistry, rounds: number, log: (m: string) => void): Promise<PrepullFigure> {
  const b = await startBenchCoordinator({ withNode: true });
  try {
    if (!b.node) throw new Error('the local node daemon did not start');
    await b.node.ready;
    const agents = (await b.request('GET', '/api/admin/agent-types', undefined, b.admin)).body.agent_types as {
      id: string;
      internal_port: number;
      health_endpoint: string;
      manifest: { data_dir?: string };
    }[];
    const agent = agents.find((a) => a.id === AGENT)!;
    const local = await buildStandinImage({
      tag: 'berth-bench/standin:prepull-local',
      ports: [agent.internal_port],
      healthPath: agent.health_endpoint,
      dataDir: agent.manifest?.data_dir ?? '/app/data',
    });
    const { ref } = await registry.push(local, `bench/standin-prepull:${Date.now()}`, docker);
    await docker.getImage(ref).remove({ noprune: true }).catch(() => undefined);

    const prepulledMs: number[] = [];
    const localMs: number[] = [];
    const prepulledRound = async () => {
      await pin(b, ref);
      await prePulled(b, ref);
      const r = await signupRound(b, AGENT);
      if (pulled(r.events)) throw new Error('a signup after the pre-pull still pulled the image');
      await terminateSlot(b, r.token, r.slotId);
      return r.healthyMs;
    };
    const localRound = async () => {
      await pin(b, local);
      const r = await signupRound(b, AGENT);
      await terminateSlot(b, r.token, r.slotId);
      return r.healthyMs;
    };
    await prepulledRound(); // warm-up, untimed
    await localRound();
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        prepulledMs.push(await prepulledRound());
        localMs.push(await localRound());
      } else {
        localMs.push(await localRound());
        prepulledMs.push(await prepulledRound());
      }
      log(`signup round ${i + 1}/${rounds}: pre-pulled ${prepulledMs[i].toFixed(0)} ms, already there ${localMs[i].toFixed(0)} ms`);
    }
    log(`signup-to-healthy medians: pre-pulled ${median(prepulledMs).toFixed(0)} ms, already there ${median(localMs).toFixed(0)} ms`);
    return { prepulledMs, localMs };
  } finally {
    await b.close();
  }
}
