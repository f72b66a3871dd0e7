import { GiB, SlotDeploySpec } from './deploy-spec';
import { deploySpecProblems, validateDeploySpec } from './deploy-spec.policy';
import { InvalidArgumentError } from './errors';

const good = (): SlotDeploySpec => ({
  deploymentId: 'dep-1',
  slotId: 'slot-1',
  customerId: 'cust-1',
  agentTypeId: 'openclaw',
  agentVersion: '2026.9.6',
  image: 'ghcr.io/openclaw/openclaw:2026.9.6',
  env: { OPENAI_API_KEY: 'sk-secret-value', TELEGRAM_BOT_TOKEN: 'x' },
  ports: [
    { name: 'gateway', containerPort: 18789, publish: true },
    { name: 'bridge', containerPort: 18790, publish: true },
  ],
  health: {
    path: '/readyz',
    portName: 'gateway',
    startPeriodMs: 60000,
    intervalMs: 2000,
    timeoutMs: 1000,
    failureThreshold: 3,
  },
  resources: { memoryBytes: GiB, nanoCpus: 250_000_000, pidsLimit: 256 },
  dataMountPath: '/home/node/.openclaw',
  files: [{ path: 'openclaw.json', content: '{}' }],
  readOnlyRootfs: false,
  capAdd: ['CHOWN'],
});

describe('validateDeploySpec', () => {
  it('accepts a sound spec, digests and registries with ports', () => {
    expect(() => validateDeploySpec(good())).not.toThrow();
    for (const image of [
      'nginx',
      'localhost:5000/a/b:1',
      'docker.io/sipeed/picoclaw:latest',
      `x/y@sha256:${'a'.repeat(64)}`,
    ]) {
      expect(deploySpecProblems({ ...good(), image })).toEqual({});
    }
  });

  it.each<[string, (s: SlotDeploySpec) => void, string]>([
    ['bad image ref', (s) => (s.image = 'Bad Image;rm -rf'), 'image'],
    ['upper-case image path', (s) => (s.image = 'ghcr.io/OpenClaw/x'), 'image'],
    ['cap outside allow-list', (s) => (s.capAdd = ['SYS_ADMIN']), 'capAdd'],
    ['NET_ADMIN via CAP_ prefix', (s) => (s.capAdd = ['CAP_NET_ADMIN']), 'capAdd'],
    ['invalid env name', (s) => (s.env = { 'BAD-NAME': 'v' }), 'env'],
    ['env name with =', (s) => (s.env = { 'A=B': 'v' }), 'env'],
    [
      'file escaping the data dir',
      (s) => (s.files = [{ path: '../etc/passwd', content: 'x' }]),
      'files[0].path',
    ],
    ['absolute file path', (s) => (s.files = [{ path: '/etc/passwd', content: 'x' }]), 'files[0].path'],
    ['setuid file mode', (s) => (s.files = [{ path: 'a', content: 'x', mode: 0o4755 }]), 'files[0].mode'],
    ['port 0', (s) => (s.ports[0].containerPort = 0), 'ports[0].containerPort'],
    ['port 70000', (s) => (s.ports[1].containerPort = 70000), 'ports[1].containerPort'],
    ['duplicate port', (s) => (s.ports[1].containerPort = 18789), 'ports[1].containerPort'],
    ['health on unknown port', (s) => (s.health!.portName = 'nope'), 'health.portName'],
    ['zero memory', (s) => (s.resources.memoryBytes = 0), 'resources.memoryBytes'],
    ['absurd memory', (s) => (s.resources.memoryBytes = 10_000 * GiB), 'resources.memoryBytes'],
    ['negative cpu', (s) => (s.resources.nanoCpus = -1), 'resources.nanoCpus'],
    ['no pids limit', (s) => (s.resources.pidsLimit = 0), 'resources.pidsLimit'],
    ['data mount /', (s) => (s.dataMountPath = '/'), 'dataMountPath'],
    ['data mount /etc', (s) => (s.dataMountPath = '/etc'), 'dataMountPath'],
    ['relative data mount', (s) => (s.dataMountPath = 'data'), 'dataMountPath'],
    ['data mount with ..', (s) => (s.dataMountPath = '/data/../etc'), 'dataMountPath'],
    ['root user', (s) => (s.user = '0:0'), 'user'],
    ['slot id with slash', (s) => (s.slotId = 'a/b'), 'slotId'],
  ])('refuses %s', (_name, mutate, field) => {
    const spec = good();
    mutate(spec);
    expect(deploySpecProblems(spec)[field]).toBeDefined();
    expect(() => validateDeploySpec(spec)).toThrow(InvalidArgumentError);
  });

  it('never puts an env value in its message', () => {
    const spec = good();
    spec.env = { 'BAD NAME': 'sk-very-secret', OK: 'a\0b-secret' };
    try {
      validateDeploySpec(spec);
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as Error).message).not.toMatch(/secret/);
    }
  });
});
