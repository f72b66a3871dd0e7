/**
 * The platform policy on a rendered compose document (ARCHITECTURE.md, "Templates and
 * safety"). A template, shipped or bring-your-own, describes one service; everything that
 * could reach outside the slot is refused, and the node daemon adds the hardening itself
 * (cap-drop ALL, no-new-privileges, the plan's limits, ports from its pool).
 */
import { CAP_ALLOW_LIST, type SlotResources } from '@berth/domain';
import { hostPortPlaceholder, type EffectiveAgent } from './values';

/** Service keys a template may use. Anything else is a violation. */
export const ALLOWED_SERVICE_KEYS: readonly string[] = [
  'image',
  'command',
  'entrypoint',
  'environment',
  'user',
  'working_dir',
  'ports',
  'expose',
  'volumes',
  'read_only',
  'cap_add',
  'cap_drop',
  'security_opt',
  'deploy',
  'mem_limit',
  'cpus',
  'pids_limit',
  'restart',
  'privileged',
];

/** Why the keys most often used to escape a container are refused. */
const REFUSED_BECAUSE: Record<string, string> = {
  network_mode: 'network_mode is not allowed (host or container: networking escapes the slot)',
  pid: 'pid is not allowed (host PID namespace)',
  ipc: 'ipc is not allowed (host or shared IPC namespace)',
  uts: 'uts is not allowed (host UTS namespace)',
  userns_mode: 'userns_mode is not allowed',
  cgroup: 'cgroup is not allowed',
  cgroup_parent: 'cgroup_parent is not allowed',
  devices: 'devices are not allowed',
  device_cgroup_rules: 'device_cgroup_rules are not allowed',
  gpus: 'gpus are not allowed',
  sysctls: 'sysctls are not allowed',
  extra_hosts: 'extra_hosts is not allowed (it could redirect names such as the LLM endpoint)',
  dns: 'dns is not allowed',
  dns_search: 'dns_search is not allowed',
  dns_opt: 'dns_opt is not allowed',
  networks: 'networks are not allowed (the node daemon gives each slot its own network)',
  links: 'links are not allowed',
  external_links: 'external_links are not allowed',
  volumes_from: 'volumes_from is not allowed',
  tmpfs: 'tmpfs is not supported',
  env_file: 'env_file is not allowed (it reads a file on the host)',
  build: 'build is not allowed (images are pulled, never built on a node)',
  labels: 'labels are not allowed (the node daemon owns container labels)',
  healthcheck: 'healthcheck is not allowed (the health probe comes from the manifest)',
  container_name: 'container_name is not allowed (the node daemon names containers)',
  runtime: 'runtime is not allowed',
  isolation: 'isolation is not allowed',
  ulimits: 'ulimits are not allowed',
  oom_kill_disable: 'oom_kill_disable is not allowed',
  oom_score_adj: 'oom_score_adj is not allowed',
  shm_size: 'shm_size is not allowed',
  storage_opt: 'storage_opt is not allowed',
  group_add: 'group_add is not allowed',
  logging: 'logging is not allowed (the node daemon owns logs)',
  configs: 'configs are not allowed (config files go into the data volume)',
  secrets: 'secrets are not allowed (secrets are injected by the platform)',
};

export const ALLOWED_TOP_LEVEL_KEYS: readonly string[] = ['version', 'services', 'volumes'];
/** The one named volume a template may mount: the slot's data volume for this agent type. */
export const DATA_VOLUME = 'data';

export interface PolicyContext {
  agent: EffectiveAgent;
  /** The image the platform chose (manifest pin, operator pin or the customer's image). */
  image: string;
  dataDir: string;
  resources: SlotResources;
}

/** What the policy extracted from an accepted service. */
export interface AcceptedService {
  image: string;
  command?: string[];
  entrypoint?: string[];
  env: Record<string, string>;
  user?: string;
  workingDir?: string;
  publishedPorts: Set<string>;
  readOnlyRootfs: boolean;
  capAdd: string[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
// Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path.
const IMAGE_REF = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(v.trim());
  if (!m) return undefined;
  const mult = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function stringList(v: unknown, what: string, out: string[]): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    out.push(`${what} must be a list of strings (the string form would be shell-split)`);
    return undefined;
  }
  for (const x of v as string[]) if (x.includes('\0')) out.push(`${what} contains a NUL character`);
  return v as string[];
}

/**
 * Check a parsed compose document. Returns every violation (empty when accepted) and, when
 * accepted, what the spec is built from.
 */
export function checkComposePolicy(doc: unknown, ctx: PolicyContext): { violations: string[]; service?: AcceptedService } {
  const v: string[] = [];
  if (!isMap(doc)) return { violations: ['the document must be a mapping with services'] };
  for (const k of Object.keys(doc)) {
    if (!ALLOWED_TOP_LEVEL_KEYS.includes(k)) v.push(REFUSED_BECAUSE[k] ?? `top-level key '${k}' is not allowed`);
  }
  if (doc.volumes !== undefined && doc.volumes !== null) {
    if (!isMap(doc.volumes)) v.push('volumes must be a mapping');
    else
      for (const [name, def] of Object.entries(doc.volumes)) {
        if (name !== DATA_VOLUME) v.push(`volume '${name}' is not allowed: only the slot's data volume '${DATA_VOLUME}'`);
        else if (def !== null && !(isMap(def) && Object.keys(def).length === 0)) {
          v.push(`volume '${DATA_VOLUME}' must have no options (driver, driver_opts, external and name could bind a host path)`);
        }
      }
  }
  const services = doc.services;
  if (!isMap(services) || Object.keys(services).length !== 1) {
    v.push(`exactly one service is required, found ${isMap(services) ? Object.keys(services).length : 0}`);
    return { violations: v };
  }
  const [svcName, svc] = Object.entries(services)[0];
  if (!isMap(svc)) return { violations: [...v, `service '${svcName}' must be a mapping`] };

  for (const k of Object.keys(svc)) {
    if (!ALLOWED_SERVICE_KEYS.includes(k)) v.push(REFUSED_BECAUSE[k] ?? `service key '${k}' is not allowed`);
  }
  if (svc.privileged !== undefined && svc.privileged !== false) v.push('privileged mode is not allowed');

  // image
  const image = svc.image;
  if (typeof image !== 'string' || !IMAGE_REF.test(image) || image.length > 255) {
    v.push(`image must be a plain image reference, got ${JSON.stringify(image)}`);
  } else if (image !== ctx.image) {
    v.push(`image must be the one the platform chose (${ctx.image}), not ${image}`);
  }

  const command = stringList(svc.command, 'command', v);
  const entrypoint = stringList(svc.entrypoint, 'entrypoint', v);

  // environment
  const env: Record<string, string> = {};
  const setEnv = (name: string, value: unknown) => {
    if (!ENV_NAME.test(name)) v.push(`environment name '${name}' is not a valid variable name`);
    else if (value === null || value === undefined) v.push(`environment ${name} has no value`);
    else if (!['string', 'number', 'boolean'].includes(typeof value)) v.push(`environment ${name} must be a scalar`);
    else if (String(value).includes('\0')) v.push(`environment ${name} contains a NUL character`);
    else env[name] = String(value);
  };
  if (isMap(svc.environment)) for (const [k, val] of Object.entries(svc.environment)) setEnv(k, val);
  else if (Array.isArray(svc.environment)) {
    for (const item of svc.environment) {
      if (typeof item !== 'string' || !item.includes('=')) v.push(`environment item ${JSON.stringify(item)} must be NAME=value`);
      else setEnv(item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1));
    }
  } else if (svc.environment !== undefined && svc.environment !== null) v.push('environment must be a mapping');

  // user, working_dir, read_only
  if (svc.user !== undefined && (typeof svc.user !== 'string' || !/^([0-9]{1,10}|[a-z_][a-z0-9_-]{0,31})(:([0-9]{1,10}|[a-z_][a-z0-9_-]{0,31}))?$/.test(svc.user))) {
    v.push(`user must be "uid:gid" or a user name, got ${JSON.stringify(svc.user)}`);
  } else if (typeof svc.user === 'string' && /^(0|root)(:|$)/.test(svc.user)) {
    // The node refuses it too (libs/domain deploy-spec.policy.ts); here it is refused before anything is stored or sent.
    v.push(`user must not be root, got ${JSON.stringify(svc.user)}: agents run as a non-root user (e.g. "1000:1000")`);
  }
  if (svc.working_dir !== undefined && (typeof svc.working_dir !== 'string' || !svc.working_dir.startsWith('/'))) {
    v.push('working_dir must be an absolute path');
  }
  if (svc.read_only !== undefined && typeof svc.read_only !== 'boolean') v.push('read_only must be true or false');

  // capabilities and security options
  const capAdd = stringList(svc.cap_add, 'cap_add', v) ?? [];
  const normCap = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  for (const c of capAdd) {
    if (!CAP_ALLOW_LIST.includes(normCap(c))) v.push(`cap_add ${c} is not allowed (allowed: ${CAP_ALLOW_LIST.join(', ')})`);
  }
  const capDrop = stringList(svc.cap_drop, 'cap_drop', v);
  if (capDrop && !(capDrop.length === 1 && capDrop[0].toUpperCase() === 'ALL')) v.push('cap_drop may only be [ALL] (the platform drops all capabilities)');
  const secOpt = stringList(svc.security_opt, 'security_opt', v);
  for (const o of secOpt ?? []) {
    if (!/^no-new-privileges([:=]true)?$/.test(o)) v.push(`security_opt ${o} is not allowed (only no-new-privileges, which is always set)`);
  }
  if (svc.restart !== undefined && !['no', 'always', 'unless-stopped', 'on-failure'].includes(String(svc.restart))) {
    v.push('restart must be no, always, unless-stopped or on-failure');
  }

  // resources: never other than the plan
  const { memoryBytes, nanoCpus, pidsLimit } = ctx.resources;
  const checkMem = (val: unknown, where: string) => {
    if (val !== undefined && parseBytes(val) !== memoryBytes) v.push(`${where} must be the plan's ${memoryBytes} bytes, got ${JSON.stringify(val)}`);
  };
  const checkCpu = (val: unknown, where: string) => {
    if (val !== undefined && Math.round(Number(val) * 1e9) !== nanoCpus) v.push(`${where} must be the plan's ${nanoCpus / 1e9}, got ${JSON.stringify(val)}`);
  };
  const checkPids = (val: unknown, where: string) => {
    if (val !== undefined && Number(val) !== pidsLimit) v.push(`${where} must be the plan's ${pidsLimit}, got ${JSON.stringify(val)}`);
  };
  checkMem(svc.mem_limit, 'mem_limit');
  checkCpu(svc.cpus, 'cpus');
  checkPids(svc.pids_limit, 'pids_limit');
  if (svc.deploy !== undefined) {
    const d = svc.deploy;
    const res = isMap(d) ? d.resources : undefined;
    const lim = isMap(res) ? res.limits : undefined;
    if (!isMap(d) || Object.keys(d).some((k) => k !== 'resources') || !isMap(res) || Object.keys(res).some((k) => k !== 'limits') || !isMap(lim)) {
      v.push('deploy may only hold resources.limits');
    } else {
      for (const k of Object.keys(lim)) if (!['memory', 'cpus', 'pids'].includes(k)) v.push(`deploy.resources.limits.${k} is not allowed`);
      checkMem(lim.memory, 'deploy.resources.limits.memory');
      checkCpu(lim.cpus, 'deploy.resources.limits.cpus');
      checkPids(lim.pids, 'deploy.resources.limits.pids');
    }
  }

  // ports: long syntax only, declared by the manifest, host side = the pool placeholder
  const publishedPorts = new Set<string>();
  const byTarget = new Map(ctx.agent.ports.map((p) => [p.containerPort, p]));
  if (svc.ports !== undefined && svc.ports !== null) {
    if (!Array.isArray(svc.ports)) v.push('ports must be a list');
    else
      for (const p of svc.ports) {
        if (!isMap(p)) {
          v.push(`port ${JSON.stringify(p)} must use the long syntax (target, published, name)`);
          continue;
        }
        for (const k of Object.keys(p)) if (!['name', 'target', 'published', 'protocol'].includes(k)) v.push(`port option '${k}' is not allowed (host_ip and mode come from the node)`);
        const decl = byTarget.get(Number(p.target));
        if (!decl) {
          v.push(`port ${JSON.stringify(p.target)} is not declared by the agent (declared: ${ctx.agent.ports.map((x) => x.containerPort).join(', ')})`);
          continue;
        }
        if (p.name !== undefined && p.name !== decl.name) v.push(`port ${decl.containerPort} is named '${decl.name}', not ${JSON.stringify(p.name)}`);
        if (!decl.publish) v.push(`port '${decl.name}' is not published by the agent's manifest`);
        if (p.protocol !== undefined && p.protocol !== 'tcp') v.push(`port '${decl.name}' must be tcp`);
        const want = hostPortPlaceholder(decl.name, decl.containerPort);
        if (p.published !== want) v.push(`port '${decl.name}' must be published on ${want} (the node's pool), got ${JSON.stringify(p.published)}`);
        publishedPorts.add(decl.name);
      }
  }
  if (svc.expose !== undefined) {
    if (!Array.isArray(svc.expose)) v.push('expose must be a list');
    else for (const e of svc.expose) if (!byTarget.has(Number(e))) v.push(`expose ${JSON.stringify(e)} is not a port the agent declares`);
  }

  // volumes: only the data volume, mounted at the agent's data dir
  if (svc.volumes !== undefined && svc.volumes !== null) {
    if (!Array.isArray(svc.volumes)) v.push('volumes must be a list');
    else {
      if (svc.volumes.length > 1) v.push(`only the slot's data volume may be mounted, found ${svc.volumes.length} volumes`);
      for (const vol of svc.volumes) {
        let type: unknown = 'volume';
        let source: unknown;
        let target: unknown;
        let extra: string[] = [];
        if (typeof vol === 'string') {
          const parts = vol.split(':');
          [source, target] = parts;
          if (parts.length > 3 || (parts[2] !== undefined && !/^(rw|ro)$/.test(parts[2]))) extra = ['mode'];
        } else if (isMap(vol)) {
          ({ type, source, target } = vol);
          extra = Object.keys(vol).filter((k) => !['type', 'source', 'target', 'read_only'].includes(k));
        }
        const shown = JSON.stringify(vol);
        if (typeof source === 'string' && (source.includes('docker.sock') || source.startsWith('/') || source.startsWith('.') || source.startsWith('~'))) {
          v.push(`volume ${shown}: host paths are not allowed${source.includes('docker.sock') ? ' (never the Docker socket)' : ''}`);
        } else if (type !== 'volume' || source !== DATA_VOLUME) {
          v.push(`volume ${shown}: only the named volume '${DATA_VOLUME}' is allowed`);
        }
        if (extra.length > 0) v.push(`volume ${shown}: options ${extra.join(', ')} are not allowed`);
        if (target !== ctx.dataDir) v.push(`volume ${shown}: the data volume must be mounted at ${ctx.dataDir}`);
      }
    }
  }

  if (v.length > 0) return { violations: v };
  return {
    violations: [],
    service: {
      image: image as string,
      command,
      entrypoint,
      env,
      user: svc.user as string | undefined,
      workingDir: svc.working_dir as string | undefined,
      publishedPorts,
      readOnlyRootfs: svc.read_only === true,
      capAdd: [...new Set(capAdd.map(normCap))],
    },
  };
}
