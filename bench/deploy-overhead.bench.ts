/**
 * Deploy overhead: signup-to-healthy through the whole pipeline vs creating, starting and probing
 * the same image directly with Docker, in the same run.
 *
 * Pipeline (ours): POST /api/signup (Myrai, its image pinned to a stand-in through
 * PATCH /api/admin/agent-types/myrai) -> coordinator (render, place, reserve) -> gRPC -> an
 * in-process node daemon (startLocalNode, a node id of its own) -> Docker -> the daemon's first
 * healthy probe, observed by the client as the deployment's `healthy` event on
 * GET /api/deployments/:id/events. The clock starts before the signup request is sent.
 *
 * Baseline: dockerode create + start of the SAME image with the same Cmd, memory/CPU/pids limits
 * (read from the pipeline's own container) and a published port, then an HTTP probe loop on the
 * daemon's schedule: the same probe function (libs/node-daemon/src/health/http-probe.ts), the same
 * first-probe delay and the same interval, both read from the daemon's slot record.
 *
 * For reference only (not in the ratio), the same bare container probed every 20 ms shows when
 * it actually starts answering, so the cost of the probe schedule itself is visible.
 *
 * Rounds alternate pipeline / baseline / reference so machine noise hits all three alike; one
 * untimed warm-up round each first. Between rounds the slot is terminated through the API
 * (DELETE /api/slot, followed to its end) and baseline containers are removed directly.
 */
import { randomBytes } from 'node:crypto';
import { buildStandinImage, testDocker } from '@berth/testing';
import { httpProbe } from '@berth/node-daemon';
import { BenchRow, defineBench } from './harness';
import { startBenchCoordinator } from './support/coordinator';
import { signupRound, terminateSlot, type SignupRound } from './support/signup';
import { median, msSince, percentile, sleep, waitFor } from './support/stats';
import { freePort } from '@berth/testing';

const AGENT = 'myrai';
const STANDIN_TAG = 'berth-bench/standin:myrai';
const BENCH_LABEL = 'berth.bench';
const TIGHT_INTERVAL_MS = 20;
/**
 * The daemon's first probe comes min(500 ms, interval) after the container starts
 * (SlotService.startProbing); the interval itself is read from the slot record.
 */
const daemonFirstProbeDelay = (intervalMs: number) => Math.min(500, intervalMs);

interface Schedule {
  path: string;
  timeoutMs: number;
  intervalMs: number;
  firstDelayMs: number;
}

interface Limits {
  cmd: string[] | undefined;
  memory: number;
  nanoCpus: number;
  pidsLimit: number | undefined;
  containerPort: number;
}

interface BareRound {
  totalMs: number;
  startedMs: number;
  probes: number;
}

const docker = testDocker();

async function bareRound(image: string, limits: Limits, s: Schedule, runId: string): Promise<BareRound> {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const container = await docker.createContainer({
    Image: image,
    Cmd: limits.cmd,
    Labels: { [BENCH_LABEL]: runId },
    ExposedPorts: { [`${limits.containerPort}/tcp`]: {} },
    HostConfig: {
      PortBindings: { [`${limits.containerPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
      Memory: limits.memory,
      MemorySwap: limits.memory,
      NanoCpus: limits.nanoCpus,
      PidsLimit: limits.pidsLimit,
    },
  });
  try {
    await container.start();
    const startedMs = msSince(t0);
    await sleep(s.firstDelayMs);
    let probes = 0;
    for (;;) {
      probes++;
      const r = await httpProbe('127.0.0.1', port, s.path, s.timeoutMs);
      if (r.ok) break;
      if (msSince(t0) > 120_000) throw new Error('bare container never answered its health probe');
      await sleep(s.intervalMs);
    }
    return { totalMs: msSince(t0), startedMs, probes };
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

const fmt = (xs: number[]) => ({ median: median(xs), p90: percentile(xs, 90), min: Math.min(...xs), max: Math.max(...xs) });

export default defineBench({
  name: 'deploy-overhead',
  description: 'signup-to-healthy through coordinator + gRPC + node daemon vs bare Docker create+start+probe of the same image',
  async run(ctx) {
    const rounds = ctx.quick ? 2 : 5;
    const runId = `deploy-overhead-${randomBytes(4).toString('hex')}`;
    const b = await startBenchCoordinator({ withNode: true });
    try {
      if (!b.node) throw new Error('the local node daemon did not start');
      await b.node.ready;
      await waitFor(
        async () => {
          const r = await b.request('GET', '/api/admin/nodes', undefined, b.admin);
          const nodes = (r.body.nodes ?? r.body) as { name: string; status: string; capacity: { free_memory_mb: number } }[];
          return nodes.find((n) => n.name === b.nodeId && n.status === 'up' && n.capacity.free_memory_mb > 0);
        },
        60_000,
        'the local node to report capacity',
      );

      // The stand-in answers the agent's own health path on its own port, and owns its data dir.
      const agents = (await b.request('GET', '/api/admin/agent-types', undefined, b.admin)).body.agent_types as {
        id: string;
        internal_port: number;
        health_endpoint: string;
        manifest: { data_dir?: string };
      }[];
      const agent = agents.find((a) => a.id === AGENT);
      if (!agent) throw new Error(`agent type ${AGENT} missing from the catalogue`);
      const image = await buildStandinImage({
        tag: STANDIN_TAG,
        ports: [agent.internal_port],
        healthPath: agent.health_endpoint,
        dataDir: agent.manifest?.data_dir ?? '/app/data',
      });
      const pin = await b.request('PATCH', `/api/admin/agent-types/${AGENT}`, { base_image: image }, b.admin);
      if (pin.status !== 200) throw new Error(`pinning the image: HTTP ${pin.status} ${JSON.stringify(pin.body)}`);

      // Warm-up (untimed): also tells us the daemon's probe schedule and the container's limits.
      ctx.log('warm-up: one deploy through the pipeline');
      const warm = await signupRound(b, AGENT);
      const rec = b.node.slots.slots.get(warm.slotId);
      if (!rec?.health) throw new Error('the daemon has no health check for the slot');
      const schedule: Schedule = {
        path: rec.health.path,
        timeoutMs: rec.health.timeoutMs,
        intervalMs: rec.health.intervalMs,
        firstDelayMs: daemonFirstProbeDelay(rec.health.intervalMs),
      };
      const [info] = await docker.listContainers({ filters: JSON.stringify({ label: [`berth.slot=${warm.slotId}`] }) });
      const inspected = await docker.getContainer(info.Id).inspect();
      const limits: Limits = {
        cmd: inspected.Config.Cmd ?? undefined,
        memory: inspected.HostConfig.Memory ?? 0,
        nanoCpus: inspected.HostConfig.NanoCpus ?? 0,
        pidsLimit: inspected.HostConfig.PidsLimit ?? undefined,
        containerPort: agent.internal_port,
      };
      await terminateSlot(b, warm.token, warm.slotId);
      ctx.log('warm-up: one bare Docker round');
      await bareRound(image, limits, schedule, runId);

      const pipe: SignupRound[] = [];
      const bare: BareRound[] = [];
      const tight: BareRound[] = [];
      const tightSchedule: Schedule = { ...schedule, firstDelayMs: 0, intervalMs: TIGHT_INTERVAL_MS };
      for (let i = 0; i < rounds; i++) {
        const p = await signupRound(b, AGENT);
        pipe.push(p);
        await terminateSlot(b, p.token, p.slotId);
        bare.push(await bareRound(image, limits, schedule, runId));
        tight.push(await bareRound(image, limits, tightSchedule, runId));
        ctx.log(
          `round ${i + 1}/${rounds}: pipeline ${Math.round(p.healthyMs)} ms (succeeded ${Math.round(p.succeededMs)}), ` +
            `bare ${Math.round(bare[i].totalMs)} ms, bare probed every ${TIGHT_INTERVAL_MS} ms ${Math.round(tight[i].totalMs)} ms`,
        );
      }

      const ph = fmt(pipe.map((p) => p.healthyMs));
      const ps = fmt(pipe.map((p) => p.succeededMs));
      const bh = fmt(bare.map((r) => r.totalMs));
      const th = fmt(tight.map((r) => r.totalMs));
      const row = (what: string, s: ReturnType<typeof fmt>, probes: number[]): BenchRow => ({
        what,
        rounds,
        'median ms': s.median,
        'p90 ms': s.p90,
        'min ms': s.min,
        'max ms': s.max,
        'probes (median)': median(probes),
      });
      const rows: BenchRow[] = [
        row('pipeline: signup -> healthy event', ph, pipe.map((p) => p.probes)),
        row('pipeline: signup -> succeeded event', ps, pipe.map((p) => p.probes)),
        row('bare Docker: create+start+probe (same schedule)', bh, bare.map((r) => r.probes)),
        row(`reference: bare, probed every ${TIGHT_INTERVAL_MS} ms from start`, th, tight.map((r) => r.probes)),
      ];

      // Where the pipeline's time goes: median ms from the start of the round to each event.
      const order = ['signup response', ...new Set(pipe.flatMap((p) => Object.keys(p.at)))];
      const breakdown = order.map((type) => {
        const xs = type === 'signup response' ? pipe.map((p) => p.signupMs) : pipe.map((p) => p.at[type]).filter((x) => x !== undefined);
        return { type, ms: Math.round(median(xs)) };
      });
      const bareStarted = Math.round(median(bare.map((r) => r.startedMs)));
      const pipeStarted = breakdown.find((x) => x.type === 'starting')?.ms;
      const notes = [
        `probe schedule (read from the daemon's slot record): ${schedule.path}, first probe ${schedule.firstDelayMs} ms after start, then every ${schedule.intervalMs} ms, timeout ${schedule.timeoutMs} ms`,
        `container limits copied to the baseline: memory ${Math.round(limits.memory / 2 ** 20)} MiB, ${limits.nanoCpus / 1e9} CPU, pids ${limits.pidsLimit ?? 'unlimited'}`,
        `pipeline, median ms from the signup request to each event: ${breakdown.map((x) => `${x.type} ${x.ms}`).join(', ')}`,
        `container started: pipeline ~${pipeStarted ?? '?'} ms after signup, bare ${bareStarted} ms after create`,
        `the stand-in answers ~${Math.round(th.median)} ms after create when probed every ${TIGHT_INTERVAL_MS} ms; the daemon's schedule adds ${Math.round(bh.median - th.median)} ms of that to the baseline too`,
        'Docker is shared with other engineers running tests; their load adds noise to both sides alike (rounds alternate).',
      ];
      return {
        rows,
        ratio: { value: ph.median / bh.median, label: 'pipeline / bare Docker, median signup-to-healthy' },
        target: { op: '<=', value: 1.2, why: 'ARCHITECTURE.md / issue 4: at most 1.2x' },
        notes,
        data: { schedule, limits, pipeline: pipe, bare, tight, breakdown },
      };
    } finally {
      await b.close();
      await docker
        .listContainers({ all: true, filters: JSON.stringify({ label: [`${BENCH_LABEL}=${runId}`] }) })
        .then((cs) => Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined))))
        .catch(() => undefined);
    }
  },
});
