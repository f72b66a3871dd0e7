/**
 * Node daemon memory (RSS) and CPU time with N slots probed vs the same daemon with 0 slots,
 * over the same interval, in the same run.
 *
 * The daemon runs as a child process from source (libs/testing/src/ts-register.js +
 * apps/node-agent/src/main.ts), so its RSS and CPU time are its own, read from /proc/<pid>. It gets
 * a node id and a port range of its own. Slots are tiny stand-in containers (32 MiB, 0.1 CPU, one
 * published port) deployed over gRPC like the coordinator does, probed with the interval the
 * coordinator sends (compose-to-spec: 5000 ms). The load is stepped 0 -> N1 -> N2 slots in one
 * daemon; at each step, once every slot is healthy and a settle pause has passed, RSS is sampled
 * every second and CPU time (utime + stime) is read at the start and end of the same interval.
 * Every container the daemon made is removed at the end (by its berth.node label).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { MiB, type SlotDeploySpec } from '@berth/domain';
import { createNodeAgentClient, toProtoDeploySpec, type NodeAgentClient, type DeployEvent } from '@berth/proto';
import { buildStandinImage, removeDockerObjectsByLabel, testDocker } from '@berth/testing';
import { BenchRow, defineBench } from './harness';
import { sleep, waitFor } from './support/stats';

const STANDIN_TAG = 'berth-bench/standin:tiny';
const PORT = 8080;
/** What the coordinator sends for every agent today (libs/templates/src/compose-to-spec.ts). */
const PROBE_INTERVAL_MS = 5000;
const CLK_TCK = 100; // Linux USER_HZ
const PAGE = 4096;

function readProc(pid: number): { cpuMs: number; rssBytes: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "(comm) ": state is [0], utime is field 14 overall -> [11], stime [12], rss 24 -> [21].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuMs: ((utime + stime) * 1000) / CLK_TCK, rssBytes: rssPages * PAGE };
}

interface Sample {
  slots: number;
  rssMiB: number;
  rssMaxMiB: number;
  cpuPct: number;
  seconds: number;
}

async function measure(pid: number, slots: number, seconds: number): Promise<Sample> {
  const start = readProc(pid);
  const t0 = process.hrtime.bigint();
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    rss.push(readProc(pid).rssBytes);
  }
  const end = readProc(pid);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    slots,
    rssMiB: rss.reduce((a, b) => a + b, 0) / rss.length / MiB,
    rssMaxMiB: Math.max(...rss) / MiB,
    cpuPct: (100 * (end.cpuMs - start.cpuMs)) / wall,
    seconds: wall / 1000,
  };
}

function deploy(c: NodeAgentClient, s: SlotDeploySpec): Promise<DeployEvent[]> {
  const out: DeployEvent[] = [];
  return new Promise((resolve, reject) => {
    const stream = c.deploy({ spec: toProtoDeploySpec(s), replace: false });
    stream.on('data', (e: DeployEvent) => out.push(e));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

function listSlots(c: NodeAgentClient): Promise<unknown> {
  return new Promise((resolve, reject) => c.listSlots({}, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
}

function terminate(c: NodeAgentClient, slotId: string): Promise<unknown> {
  return new Promise((resolve, reject) => c.terminate({ slotId, purgeData: true }, (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r))));
}

function slotSpec(nodeRun: string, i: number): SlotDeploySpec {
  const slotId = `${nodeRun}-slot-${i}`;
  return {
    deploymentId: `${slotId}-dep`,
    slotId,
    customerId: `${nodeRun}-cust-${i}`,
    agentTypeId: 'standin',
    agentVersion: '1.0.0',
    image: STANDIN_TAG,
    env: {},
    ports: [{ name: 'http', containerPort: PORT, publish: true }],
    health: { path: '/health', portName: 'http', startPeriodMs: 60_000, intervalMs: PROBE_INTERVAL_MS, timeoutMs: 3000, failureThreshold: 3 },
    resources: { memoryBytes: 32 * MiB, nanoCpus: 100_000_000, pidsLimit: 64 },
    dataMountPath: '/data',
    files: [],
    readOnlyRootfs: true,
    capAdd: [],
  };
}

export default defineBench({
  name: 'node-daemon',
  description: 'node daemon RSS and CPU with N stand-in slots probed vs the same daemon with 0 slots',
  async run(ctx) {
    // Every slot gets a bridge network of its own: Docker's default address pools hold ~30
    // networks per engine, so hundreds of slots need small default-address-pools (the engines
    // scripts/docker-engines.sh starts have them). A step that hits the pool limit ends the
    // stepping and is reported (see docs/bench.md).
    const steps = ctx.quick ? [5, 10] : [50, 100];
    const findings: string[] = [];
    const seconds = ctx.quick ? 10 : 30;
    const settleMs = ctx.quick ? 5000 : 10_000;
    const nodeId = `bench-nd-${randomBytes(4).toString('hex')}`;
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-node-'));
    const token = randomBytes(24).toString('hex');
    const from = 46000 + Math.floor(Math.random() * 30) * 200;
    const root = path.resolve(__dirname, '..');
    await buildStandinImage({ tag: STANDIN_TAG, ports: [PORT], healthPath: '/health', dataDir: '/data', docker: testDocker() });

    // A fixed gRPC port: the child's own address is only in its log.
    const grpcPort = 47000 + Math.floor(Math.random() * 2000);
    let child: ChildProcess | undefined;
    let childErr = '';
    try {
      child = spawn(process.execPath, ['-r', path.join(root, 'libs/testing/src/ts-register.js'), path.join(root, 'apps/node-agent/src/main.ts')], {
        cwd: root,
        env: {
          ...process.env,
          BERTH_NODE_ID: nodeId,
          BERTH_NODE_LISTEN: `127.0.0.1:${grpcPort}`,
          BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
          BERTH_NODE_STATE_DIR: stateDir,
          BERTH_NODE_TOKEN: token,
          BERTH_NODE_PORT_RANGE: `${from}-${from + 199}`,
          BERTH_NODE_ALLOCATABLE_MEMORY: '16GiB',
          BERTH_NODE_ALLOCATABLE_CPU: '16',
          BERTH_NODE_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr!.on('data', (d) => (childErr = (childErr + d.toString()).slice(-4000)));
      const pid = child.pid!;
      const certPem = await waitFor(async () => fs.existsSync(path.join(stateDir, 'tls.crt')) && fs.readFileSync(path.join(stateDir, 'tls.crt'), 'utf8'), 60_000, 'the daemon certificate');
      const client = createNodeAgentClient(`127.0.0.1:${grpcPort}`, { token, serverCertPem: certPem });
      await waitFor(() => listSlots(client).then(() => true), 60_000, `the daemon to answer gRPC (${childErr})`);
      // Warm-up: every code path of a deploy, probe and terminate runs (and is compiled) once
      // before the 0-slot figure, so the first step does not pay for it.
      const warm = Array.from({ length: 4 }, (_, i) => slotSpec(`${nodeId}-warm`, i));
      await Promise.all(warm.map((s) => deploy(client, s)));
      await sleep(PROBE_INTERVAL_MS * 2);
      await Promise.all(warm.map((s) => terminate(client, s.slotId)));
      await sleep(settleMs);

      const samples: Sample[] = [];
      ctx.log(`0 slots: measuring ${seconds} s`);
      samples.push(await measure(pid, 0, seconds));
      let deployed = 0;
      for (const n of steps) {
        const t0 = Date.now();
        const batch = 8;
        while (deployed < n) {
          const ids = Array.from({ length: Math.min(batch, n - deployed) }, (_, k) => deployed + k);
          const results = await Promise.all(ids.map((i) => deploy(client, slotSpec(nodeId, i))));
          for (const events of results) {
            const last = events[events.length - 1];
            if (last?.phase === 'healthy') continue;
            if (/address pool/.test(last?.message ?? '')) {
              findings.push(`step ${n} stopped at ${deployed} slots: ${last.message.trim()}`);
              break;
            }
            throw new Error(`slot did not get healthy: ${JSON.stringify(last)}`);
          }
          if (findings.length) break;
          deployed += ids.length;
        }
        if (findings.length) break;
        ctx.log(`${n} slots healthy (deployed in ${Math.round((Date.now() - t0) / 1000)} s); settling, then measuring ${seconds} s`);
        await sleep(settleMs);
        samples.push(await measure(pid, n, seconds));
      }

      const zero = samples[0];
      const rows: BenchRow[] = samples.map((s) => ({
        slots: s.slots,
        'RSS MiB (mean)': s.rssMiB,
        'RSS MiB (max)': s.rssMaxMiB,
        'RSS delta KiB/slot': s.slots ? ((s.rssMiB - zero.rssMiB) * 1024) / s.slots : null,
        'RSS vs 0 slots': s.rssMiB / zero.rssMiB,
        'CPU % of one core': s.cpuPct,
        'CPU vs 0 slots': zero.cpuPct > 0 ? s.cpuPct / zero.cpuPct : null,
        'CPU % per 100 slots': s.slots ? ((s.cpuPct - zero.cpuPct) * 100) / s.slots : null,
        seconds: s.seconds,
      }));
      const top = samples[samples.length - 1];
      return {
        rows,
        ratio: { value: top.rssMiB / zero.rssMiB, label: `daemon RSS with ${top.slots} slots / with 0 slots` },
        notes: [
          ...findings,
          `child process daemon (ts-register, from source: includes the swc compiler's own memory in both figures); RSS sampled every 1 s, CPU = (utime+stime) delta over the same ${seconds} s`,
          `slots: stand-in containers, 32 MiB / 0.1 CPU each, one published port, HTTP probe every ${PROBE_INTERVAL_MS} ms (the coordinator's interval), reconciler resync at its default`,
          `CPU ratio vs 0 slots is large because the idle daemon uses almost nothing: read the absolute CPU % of one core too`,
          "Docker is shared with other engineers' tests; their containers add events the daemon sees and noise to CPU time.",
        ],
        data: { samples, nodeId },
      };
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      await removeDockerObjectsByLabel(`berth.node=${nodeId}`, testDocker()).catch(() => undefined);
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  },
});
