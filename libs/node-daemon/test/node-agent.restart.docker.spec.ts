import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Capacity, ListSlotsResponse, NodeAgentClient, NodeInfo, SlotState } from '@berth/proto';
import { describeWithDocker, removeDockerObjectsByLabel } from '@berth/testing';
import { call, client, containersOf, deploy, spec, standinImage, testConfig, waitFor } from './harness';

const root = path.resolve(__dirname, '../../..');

/** The daemon as a real child process (so it can be SIGKILLed), run from source through ts-register. */
function spawnDaemon(env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '-r',
      path.join(root, 'libs/testing/src/ts-register.js'),
      path.join(root, 'apps/node-agent/src/main.ts'),
    ],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.on('data', (d) => (logs += d.toString()));
  return child;
}
let logs = '';

describeWithDocker('node daemon killed with SIGKILL', () => {
  const port = 45000 + Math.floor(Math.random() * 4000);
  const cfg = testConfig();
  const env: Record<string, string> = {
    BERTH_NODE_ID: cfg.BERTH_NODE_ID,
    BERTH_NODE_LISTEN: `127.0.0.1:${port}`,
    BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
    BERTH_NODE_STATE_DIR: cfg.BERTH_NODE_STATE_DIR,
    BERTH_NODE_TOKEN: cfg.BERTH_NODE_TOKEN!,
    BERTH_NODE_PORT_RANGE: `${cfg.BERTH_NODE_PORT_RANGE.from}-${cfg.BERTH_NODE_PORT_RANGE.to}`,
    BERTH_NODE_ALLOCATABLE_MEMORY: '4GiB',
    BERTH_NODE_ALLOCATABLE_CPU: '2',
    BERTH_NODE_REAP_GRACE_MS: '600000',
    BERTH_NODE_LOG_LEVEL: 'info',
  };
  let child: ChildProcess | undefined;
  let c: NodeAgentClient | undefined;

  const connect = async () => {
    const certPem = await waitFor(
      async () =>
        fs.existsSync(path.join(cfg.BERTH_NODE_STATE_DIR, 'tls.crt')) &&
        fs.readFileSync(path.join(cfg.BERTH_NODE_STATE_DIR, 'tls.crt'), 'utf8'),
      30000,
      'the daemon cert',
    );
    const cl = client(`127.0.0.1:${port}`, cfg.BERTH_NODE_TOKEN!, certPem);
    const info = await waitFor(
      async () => {
        const i = await call<object, NodeInfo>(cl, 'getInfo', {});
        return i.synced && i;
      },
      30000,
      `the daemon to sync; logs:\n${logs}`,
    );
    return { cl, info };
  };

  beforeAll(() => standinImage());
  afterAll(async () => {
    c?.close();
    child?.kill('SIGKILL');
    await removeDockerObjectsByLabel(`berth.node=${cfg.BERTH_NODE_ID}`);
  });

  it('leaves slots running, and on restart adopts them with the same ports and no duplicates', async () => {
    child = spawnDaemon(env);
    const first = await connect();
    c = first.cl;
    const deployed = await Promise.all(['k1', 'k2'].map((id) => deploy(c!, spec(id))));
    for (const evs of deployed) expect(evs[evs.length - 1].state).toBe(SlotState.SLOT_STATE_HEALTHY);
    const before = (await call<object, ListSlotsResponse>(c, 'listSlots', {})).slots;
    const containersBefore = (await containersOf(cfg.BERTH_NODE_ID)).map((x) => x.Id).sort();

    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    c.close();
    const running = await containersOf(cfg.BERTH_NODE_ID);
    expect(running.map((x) => x.State)).toEqual(['running', 'running']);

    child = spawnDaemon(env);
    const second = await connect();
    c = second.cl;
    expect(second.info.tlsFingerprintSha256).toBe(first.info.tlsFingerprintSha256); // same pinned identity
    const after = await waitFor(
      async () => {
        const s = (await call<object, ListSlotsResponse>(c!, 'listSlots', {})).slots;
        return s.length === 2 && s.every((x) => x.state === SlotState.SLOT_STATE_HEALTHY) && s;
      },
      30000,
      'adopted slots to be healthy',
    );
    const byId = (xs: typeof before) =>
      Object.fromEntries(
        xs.map((s) => [
          s.slotId,
          { deploymentId: s.deploymentId, ports: s.ports, containerId: s.containerId },
        ]),
      );
    expect(byId(after)).toEqual(byId(before));
    expect((await containersOf(cfg.BERTH_NODE_ID)).map((x) => x.Id).sort()).toEqual(containersBefore);

    // A retried Deploy after the restart still makes no second container...
    const retried = await deploy(c, {
      ...spec('k1'),
      deploymentId: before.find((s) => s.slotId === 'k1')!.deploymentId,
    });
    expect(retried[retried.length - 1].phase).toBe('already_exists');
    // ...and a new slot never gets an adopted port.
    const fresh = await deploy(c, spec('k3'));
    const freshPorts = fresh[fresh.length - 1].slot!.ports.map((p) => p.hostPort);
    const adoptedPorts = before.flatMap((s) => s.ports.map((p) => p.hostPort));
    expect(freshPorts.filter((p) => adoptedPorts.includes(p))).toEqual([]);
    expect(await containersOf(cfg.BERTH_NODE_ID)).toHaveLength(3);
    const cap = await call<object, Capacity>(c, 'getCapacity', {});
    expect(cap.slotsByState.healthy).toBe(3);
    expect(logs).not.toContain('sk-'); // no env values in logs
  });
});
