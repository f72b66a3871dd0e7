import YAML from 'yaml';
import { InvalidArgumentError, MiB, NANO_CPUS } from '@berth/domain';
import { composeToSpec, type SpecContext } from './compose-to-spec';

const ctx: SpecContext = {
  agentTypeId: 'fixture',
  agentVersion: '1',
  agent: {
    image: 'ghcr.io/example/fixture:1',
    ports: [
      { name: 'gateway', containerPort: 7000, publish: true },
      { name: 'health', containerPort: 9000, publish: false },
    ],
    healthPath: '/ready',
  },
  image: 'ghcr.io/example/fixture:1',
  dataDir: '/data',
  resources: { memoryBytes: 512 * MiB, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 256 },
};

type Svc = { [k: string]: unknown; volumes: unknown[]; ports: unknown[]; environment: Record<string, unknown> };
type Doc = { [k: string]: unknown; services: { agent: Svc }; volumes: unknown };

const base = (): Doc => ({
  services: {
    agent: {
      image: 'ghcr.io/example/fixture:1',
      command: ['serve'],
      environment: { A: 'b' },
      ports: [{ name: 'gateway', target: 7000, published: '${GATEWAY_HOST_PORT:-7000}' }],
      volumes: [{ type: 'volume', source: 'data', target: '/data' }],
    },
  },
  volumes: { data: {} },
});

function refusal(mutate: (doc: Doc, svc: Svc) => void): string[] {
  const doc = base() as Doc;
  mutate(doc, doc.services.agent);
  try {
    composeToSpec(YAML.stringify(doc), ctx);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return ((e as InvalidArgumentError).fields?.policy as string[]) ?? [(e as Error).message];
  }
  return [];
}

describe('platform policy', () => {
  it('accepts the base document and hardens nothing away', () => {
    expect(refusal(() => {})).toEqual([]);
    const spec = composeToSpec(YAML.stringify(base()), ctx);
    expect(spec.capAdd).toEqual([]);
    expect(spec.ports).toEqual([
      { name: 'gateway', containerPort: 7000, publish: true },
      { name: 'health', containerPort: 9000, publish: false },
    ]);
    expect(spec.resources).toEqual(ctx.resources);
  });

  it.each<[string, (doc: Doc, svc: Svc) => void, RegExp]>([
    ['privileged', (_d, s) => (s.privileged = true), /privileged mode is not allowed/],
    ['network_mode host', (_d, s) => (s.network_mode = 'host'), /network_mode is not allowed/],
    ['network_mode container:', (_d, s) => (s.network_mode = 'container:other'), /network_mode is not allowed/],
    ['pid host', (_d, s) => (s.pid = 'host'), /pid is not allowed/],
    ['ipc host', (_d, s) => (s.ipc = 'host'), /ipc is not allowed/],
    ['devices', (_d, s) => (s.devices = ['/dev/kvm:/dev/kvm']), /devices are not allowed/],
    ['sysctls', (_d, s) => (s.sysctls = { 'net.ipv4.ip_forward': 1 }), /sysctls are not allowed/],
    ['extra_hosts', (_d, s) => (s.extra_hosts = ['api.openai.com:6.6.6.6']), /extra_hosts is not allowed/],
    ['labels', (_d, s) => (s.labels = { 'berth.slot': 'someone-else' }), /labels are not allowed/],
    ['env_file', (_d, s) => (s.env_file = '/etc/shadow'), /env_file is not allowed/],
    ['an unknown key', (_d, s) => (s.stdin_open = true), /service key 'stdin_open' is not allowed/],
    ['host bind', (_d, s) => (s.volumes = [{ type: 'bind', source: '/etc', target: '/data' }]), /host paths are not allowed/],
    ['docker socket', (_d, s) => (s.volumes = ['/var/run/docker.sock:/data']), /never the Docker socket/],
    ['relative bind', (_d, s) => (s.volumes = ['./x:/data']), /host paths are not allowed/],
    ['a second volume', (_d, s) => s.volumes.push({ type: 'volume', source: 'data', target: '/data' }), /only the slot's data volume/],
    ['another named volume', (_d, s) => (s.volumes = [{ type: 'volume', source: 'other', target: '/data' }]), /only the named volume 'data'/],
    ['data volume elsewhere', (_d, s) => (s.volumes = ['data:/root']), /mounted at \/data/],
    ['volume driver_opts bind', (d) => (d.volumes = { data: { driver_opts: { type: 'none', o: 'bind', device: '/' } } }), /must have no options/],
    ['tmpfs', (_d, s) => (s.tmpfs = ['/run']), /tmpfs is not supported/],
    ['cap_add outside the allow-list', (_d, s) => (s.cap_add = ['SYS_ADMIN']), /cap_add SYS_ADMIN is not allowed/],
    ['cap_add ALL', (_d, s) => (s.cap_add = ['ALL']), /cap_add ALL is not allowed/],
    ['cap_drop other than ALL', (_d, s) => (s.cap_drop = ['NET_RAW']), /cap_drop may only be \[ALL\]/],
    ['seccomp unconfined', (_d, s) => (s.security_opt = ['seccomp:unconfined']), /security_opt seccomp:unconfined is not allowed/],
    ['apparmor unconfined', (_d, s) => (s.security_opt = ['apparmor=unconfined']), /security_opt apparmor=unconfined/],
    ['raised memory', (_d, s) => (s.mem_limit = '4g'), /mem_limit must be the plan's/],
    ['raised cpus', (_d, s) => (s.deploy = { resources: { limits: { cpus: '2' } } }), /cpus must be the plan's/],
    ['raised pids', (_d, s) => (s.pids_limit = 100000), /pids_limit must be the plan's/],
    ['reservations', (_d, s) => (s.deploy = { resources: { reservations: { memory: '1g' } } }), /deploy may only hold resources.limits/],
    ['an undeclared port', (_d, s) => s.ports.push({ name: 'gateway', target: 22, published: '22' }), /port 22 is not declared/],
    ['a fixed host port', (_d, s) => ((s.ports[0] as Record<string, unknown>).published = '80'), /must be published on \$\{GATEWAY_HOST_PORT:-7000\}/],
    ['short port syntax', (_d, s) => (s.ports = ['7000:7000']), /long syntax/],
    ['host_ip', (_d, s) => Object.assign(s.ports[0] as object, { host_ip: '0.0.0.0' }), /port option 'host_ip' is not allowed/],
    ['publishing a private port', (_d, s) => s.ports.push({ name: 'health', target: 9000, published: '${HEALTH_HOST_PORT:-9000}' }), /not published by the agent's manifest/],
    ['another image', (_d, s) => (s.image = 'evil/miner:1'), /image must be the one the platform chose/],
    ['an image with spaces', (_d, s) => (s.image = 'busybox --privileged'), /plain image reference/],
    ['string command', (_d, s) => (s.command = 'sh -c "x"' as never), /command must be a list of strings/],
    ['bad env name', (_d, s) => (s.environment = { 'A B': 'x' }), /not a valid variable name/],
    ['null env value', (_d, s) => (s.environment = { A: null }), /environment A has no value/],
    ['two services', (d) => ((d.services as Record<string, unknown>).b = { image: 'x' }), /exactly one service/],
    ['networks', (d) => (d.networks = { n: {} }), /networks are not allowed/],
    ['top-level configs', (d) => (d.configs = { c: { file: '/etc/passwd' } }), /configs are not allowed/],
    ['bad user', (_d, s) => (s.user = 'root; rm'), /user must be/],
    ['root by uid', (_d, s) => (s.user = '0:0'), /must not be root/],
    ['root by uid alone', (_d, s) => (s.user = '0'), /must not be root/],
    ['root by name', (_d, s) => (s.user = 'root'), /must not be root/],
  ])('refuses %s', (_name, mutate, message) => {
    const v = refusal(mutate);
    expect(v.join('\n')).toMatch(message);
  });

  it('lists every violation, not only the first', () => {
    const v = refusal((_d, s) => {
      s.privileged = true;
      s.network_mode = 'host';
      s.volumes = ['/var/run/docker.sock:/data'];
      s.cap_add = ['SYS_ADMIN'];
    });
    expect(v.length).toBeGreaterThanOrEqual(4);
  });

  it('accepts allow-listed capabilities, no-new-privileges and the plan limits', () => {
    const doc = base() as Doc;
    Object.assign(doc.services.agent, {
      cap_add: ['CAP_CHOWN', 'setuid'],
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      read_only: true,
      deploy: { resources: { limits: { memory: '512M', cpus: '0.25', pids: 256 } } },
      mem_limit: 512 * MiB,
    });
    const spec = composeToSpec(YAML.stringify(doc), ctx);
    expect(spec.capAdd).toEqual(['CHOWN', 'SETUID']);
    expect(spec.readOnlyRootfs).toBe(true);
  });

  it.each([
    ['anchors and aliases', 'x: &a {privileged: true}\nservices:\n  agent:\n    <<: *a\n    image: ghcr.io/example/fixture:1\n', /aliases are not allowed|anchor/],
    ['duplicate keys', 'services:\n  agent:\n    image: ghcr.io/example/fixture:1\n    image: evil/x:1\n', /invalid YAML/],
    ['custom tags', 'services:\n  agent:\n    image: !!python/object ghcr.io/example/fixture:1\n', /tag|invalid YAML/],
    ['several documents', 'services: {}\n---\nservices: {}\n', /exactly one YAML document/],
  ])('refuses %s in the YAML itself', (_n, text, message) => {
    expect(() => composeToSpec(text, ctx)).toThrow(message);
  });
});
