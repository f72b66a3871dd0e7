/**
 * Image pull: the node daemon's pull of a multi-layer image from a local registry (gRPC PullImage:
 * the daemon's image service, progress summing and throttling, digest lookup) vs `docker pull` of
 * the same image with the Docker CLI, cold cache both times, in the same run.
 *
 * The image: FROM scratch with LAYERS layers of LAYER_MIB MiB of random bytes each (random, so
 * compression cannot shrink them), pushed to a real distribution registry (TestRegistry, no auth,
 * on 127.0.0.1) under a name unique to the run. The image built for the push is removed before
 * the first round, so no layer is on the engine when a round starts; each pull is followed by
 * removing the image (and with it its layers).
 *
 * Rounds alternate which one goes first, so machine noise (and the registry's own warm-up)
 * hits both alike; one untimed warm-up pull each first.
 *
 * Second figure (support/prepull-signup.ts): signup-to-healthy through the whole pipeline on a
 * node that pre-pulled the agent's image from the same registry vs one that had it already.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { pack } from 'tar-stream';
import { createNodeAgentClient, type NodeAgentClient, type PullImageEvent } from '@berth/proto';
import { loadNodeConfig, startNodeAgent, type NodeAgentHandle } from '@berth/node-daemon';
import { testDocker, TestRegistry } from '@berth/testing';
import { BenchRow, defineBench } from './harness';
import { measurePrepullSignup } from './support/prepull-signup';
import { median, msSince } from './support/stats';

const LAYERS = 6;
const LAYER_MIB = 16;
const docker = testDocker();
const run = promisify(execFile);

/** Builds the multi-layer image from a tar context: one COPY (one layer) per random file. */
async function buildLayeredImage(tag: string): Promise<void> {
  const tar = pack();
  const lines = ['FROM scratch'];
  for (let i = 0; i < LAYERS; i++) {
    tar.entry({ name: `layer${i}.bin` }, randomBytes(LAYER_MIB * 1024 * 1024));
    lines.push(`COPY layer${i}.bin /layer${i}.bin`);
  }
  tar.entry({ name: 'Dockerfile' }, `${lines.join('\n')}\n`);
  tar.finalize();
  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, { t: tag, labels: { 'berth.bench': 'image-pull' } });
  const out: { error?: string }[] = await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, res: { error?: string }[]) => (err ? reject(err) : resolve(res))),
  );
  const failed = out.find((e) => e.error);
  if (failed) throw new Error(`building the bench image failed: ${failed.error}`);
}

async function removeImage(ref: string): Promise<void> {
  await docker.getImage(ref).remove({ force: true }).catch((e: { statusCode?: number }) => {
    if (e.statusCode !== 404) throw e;
  });
}

/** The daemon's pull through gRPC PullImage, until its final event; refuses a cached answer (not cold). */
function daemonPull(client: NodeAgentClient, image: string): Promise<PullImageEvent> {
  return new Promise((resolve, reject) => {
    let final: PullImageEvent | undefined;
    const call = client.pullImage({ image });
    call.on('data', (e: PullImageEvent) => {
      if (e.final) final = e;
    });
    call.on('error', reject);
    call.on('end', () => {
      if (!final) return reject(new Error('PullImage ended without a final event'));
      if (!final.ok) return reject(new Error(`PullImage failed: ${final.message}`));
      if (final.cached) return reject(new Error('PullImage found the image cached: the round was not cold'));
      resolve(final);
    });
  });
}

async function startDaemon(): Promise<{ agent: NodeAgentHandle; client: NodeAgentClient; stateDir: string }> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pull-'));
  const agent = await startNodeAgent(
    loadNodeConfig({
      BERTH_NODE_ID: `bench-pull-${randomBytes(3).toString('hex')}`,
      BERTH_NODE_LISTEN: '127.0.0.1:0',
      BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
      BERTH_NODE_STATE_DIR: stateDir,
      BERTH_NODE_PORT_RANGE: '24000-24009',
      BERTH_NODE_LOG_LEVEL: 'warn',
    }),
  );
  await agent.ready;
  const client = createNodeAgentClient(agent.grpcAddress, {
    token: agent.token,
    serverCertPem: agent.certPem,
    fingerprintSha256: agent.fingerprintSha256,
  });
  return { agent, client, stateDir };
}

export default defineBench({
  name: 'image-pull',
  description: `node daemon PullImage of a ${LAYERS}-layer image (${LAYERS * LAYER_MIB} MiB) from a local registry vs docker pull, cold cache both`,
  async run(ctx) {
    const registry = await TestRegistry.start({ users: {} });
    const repo = `bench/layered-${randomBytes(3).toString('hex')}`;
    const local = `berth-bench/${repo.split('/')[1]}:build`;
    let daemon: Awaited<ReturnType<typeof startDaemon>> | undefined;
    try {
      ctx.log(`building a ${LAYERS}-layer image and pushing it to ${registry.host}`);
      await buildLayeredImage(local);
      const { ref } = await registry.push(local, `${repo}:1.0`, docker);
      await removeImage(ref);
      await removeImage(local);
      daemon = await startDaemon();
      const d = daemon;

      const timeDaemon = async () => {
        const t0 = process.hrtime.bigint();
        await daemonPull(d.client, ref);
        const ms = msSince(t0);
        await removeImage(ref);
        return ms;
      };
      const timeCli = async () => {
        const t0 = process.hrtime.bigint();
        await run('docker', ['pull', '--quiet', ref]);
        const ms = msSince(t0);
        await removeImage(ref);
        return ms;
      };

      await timeDaemon();
      await timeCli();
      const rounds = ctx.quick ? 3 : 9;
      const ours: number[] = [];
      const base: number[] = [];
      for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) {
          ours.push(await timeDaemon());
          base.push(await timeCli());
        } else {
          base.push(await timeCli());
          ours.push(await timeDaemon());
        }
        ctx.log(`round ${i + 1}/${rounds}: daemon ${ours[i].toFixed(0)} ms, docker pull ${base[i].toFixed(0)} ms`);
      }
      ctx.log('signup-to-healthy: after a pre-pull vs with the image already on the node');
      const signups = ctx.quick ? 2 : 5;
      const pre = await measurePrepullSignup(registry, signups, ctx.log);
      const rows: BenchRow[] = [
        { what: 'node daemon PullImage (gRPC)', 'median ms': Math.round(median(ours)), 'min ms': Math.round(Math.min(...ours)), rounds },
        { what: 'docker pull (CLI)', 'median ms': Math.round(median(base)), 'min ms': Math.round(Math.min(...base)), rounds },
        { what: 'signup -> healthy, image pre-pulled', 'median ms': Math.round(median(pre.prepulledMs)), 'min ms': Math.round(Math.min(...pre.prepulledMs)), rounds: signups },
        { what: 'signup -> healthy, image already there', 'median ms': Math.round(median(pre.localMs)), 'min ms': Math.round(Math.min(...pre.localMs)), rounds: signups },
      ];
      return {
        rows,
        ratio: { value: median(ours) / median(base), label: 'daemon / docker pull (median, cold)' },
        target: { op: '<=', value: 1.1, why: 'issue 9: the daemon adds at most 10% to a pull' },
        more: [
          {
            ratio: { value: median(pre.prepulledMs) / median(pre.localMs), label: 'signup-to-healthy, pre-pulled / already there (median)' },
            target: { op: '<=', value: 1.05, why: 'issue 9: a pre-pulled image makes signup as fast as one already there' },
          },
        ],
        notes: [
          `${LAYERS} layers x ${LAYER_MIB} MiB of random bytes from a distribution registry on ${registry.host}; each pull followed by removing the image`,
          'signups: Myrai pinned alternately to the registry copy (pre-pulled by the coordinator after the pin; no image_pull event allowed) and to the same image built on the engine',
        ],
        data: { oursMs: ours, baseMs: base, signup: pre },
      };
    } finally {
      if (daemon) {
        daemon.client.close();
        await daemon.agent.stop();
        fs.rmSync(daemon.stateDir, { recursive: true, force: true });
      }
      await registry.destroy();
    }
  },
});
