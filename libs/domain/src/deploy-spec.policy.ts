import { CAP_ALLOW_LIST, GiB, MiB, NANO_CPUS, SlotDeploySpec } from './deploy-spec';
import { FieldErrors, InvalidArgumentError } from './errors';
import { imageRefProblem } from './image-ref';

/**
 * The platform policy for a SlotDeploySpec. The coordinator checks a rendered spec with it before
 * sending it; the node daemon checks every spec it receives again (a spec can arrive straight over
 * gRPC). Anything not expressible in SlotDeploySpec (privileged, host namespaces, devices, host
 * paths, the Docker socket) cannot be asked for at all; this checks what can.
 */
export const DEPLOY_SPEC_LIMITS = {
  minMemoryBytes: 32 * MiB,
  maxMemoryBytes: 256 * GiB,
  minNanoCpus: 0.01 * NANO_CPUS,
  maxNanoCpus: 256 * NANO_CPUS,
  minPidsLimit: 16,
  maxPidsLimit: 32768,
  maxPorts: 16,
  maxEnv: 512,
  maxEnvValueBytes: 64 * 1024,
  maxFiles: 64,
  maxFileBytes: 1024 * 1024,
  maxHealthMs: 30 * 60 * 1000,
} as const;

/** Ids become parts of Docker names and labels: keep them to a safe alphabet. */
export const SLOT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PORT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$/;
/** Where a data volume must never be mounted: it would shadow the system. */
const FORBIDDEN_MOUNTS = [
  '/',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/usr',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/run',
  '/var/run',
  '/tmp',
];

/** Problems per field; empty when the spec is acceptable. */
export function deploySpecProblems(spec: SlotDeploySpec): FieldErrors {
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  const L = DEPLOY_SPEC_LIMITS;

  for (const field of ['deploymentId', 'slotId', 'customerId', 'agentTypeId'] as const) {
    if (typeof spec[field] !== 'string' || !SLOT_ID_PATTERN.test(spec[field]))
      add(field, 'must be 1-63 characters of A-Z a-z 0-9 _ . - starting with a letter or digit');
  }
  if (
    typeof spec.agentVersion !== 'string' ||
    spec.agentVersion.length > 128 ||
    /[\s\0]/.test(spec.agentVersion)
  )
    add('agentVersion', 'must be a short string without spaces');
  const imageProblem = imageRefProblem(spec.image);
  if (imageProblem) add('image', imageProblem);

  for (const field of ['entrypoint', 'command'] as const) {
    const v = spec[field];
    if (
      v !== undefined &&
      (!Array.isArray(v) ||
        v.length > 64 ||
        v.some((a) => typeof a !== 'string' || a.includes('\0') || a.length > 4096))
    )
      add(field, 'must be a list of at most 64 strings without NUL');
  }

  const env = spec.env ?? {};
  const envNames = Object.keys(env);
  if (envNames.length > L.maxEnv) add('env', `at most ${L.maxEnv} variables`);
  for (const name of envNames) {
    // Only the name goes into the message: values can be secrets.
    if (!ENV_NAME.test(name)) add('env', `invalid variable name ${JSON.stringify(name.slice(0, 64))}`);
    const value = env[name];
    if (typeof value !== 'string' || value.includes('\0') || Buffer.byteLength(value) > L.maxEnvValueBytes)
      add('env', `value of ${name.slice(0, 64)} must be a string without NUL, at most 64 KiB`);
  }

  if (spec.user !== undefined && spec.user !== '' && !USER.test(spec.user))
    add('user', 'must be "uid", "uid:gid" or a user name');
  if (spec.user !== undefined && /^0(:|$)|^root(:|$)/.test(spec.user)) add('user', 'must not be root');
  if (spec.workingDir !== undefined && spec.workingDir !== '' && !isCleanAbsolutePath(spec.workingDir))
    add('workingDir', 'must be a clean absolute path');

  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (!Array.isArray(spec.ports)) add('ports', 'must be a list');
  if (ports.length > L.maxPorts) add('ports', `at most ${L.maxPorts} ports`);
  const names = new Set<string>();
  const numbers = new Set<number>();
  ports.forEach((p, i) => {
    if (!PORT_NAME.test(p?.name ?? '')) add(`ports[${i}].name`, 'must be a short lower-case name');
    else if (names.has(p.name)) add(`ports[${i}].name`, 'duplicate port name');
    names.add(p?.name);
    if (!Number.isInteger(p?.containerPort) || p.containerPort < 1 || p.containerPort > 65535)
      add(`ports[${i}].containerPort`, 'must be 1-65535');
    else if (numbers.has(p.containerPort)) add(`ports[${i}].containerPort`, 'duplicate container port');
    numbers.add(p?.containerPort);
    if (typeof p?.publish !== 'boolean') add(`ports[${i}].publish`, 'must be true or false');
  });

  if (spec.health) {
    const h = spec.health;
    if (typeof h.path !== 'string' || !/^\/[\x21-\x7e]{0,255}$/.test(h.path))
      add('health.path', 'must be an absolute URL path without spaces');
    if (!names.has(h.portName)) add('health.portName', 'must name one of the ports');
    for (const k of ['startPeriodMs', 'intervalMs', 'timeoutMs'] as const) {
      if (!Number.isInteger(h[k]) || h[k] < (k === 'startPeriodMs' ? 0 : 100) || h[k] > L.maxHealthMs)
        add(
          `health.${k}`,
          `must be an integer between ${k === 'startPeriodMs' ? 0 : 100} and ${L.maxHealthMs} ms`,
        );
    }
    if (!Number.isInteger(h.failureThreshold) || h.failureThreshold < 1 || h.failureThreshold > 100)
      add('health.failureThreshold', 'must be 1-100');
  }

  const r = spec.resources;
  if (!r) add('resources', 'required');
  else {
    if (
      !Number.isInteger(r.memoryBytes) ||
      r.memoryBytes < L.minMemoryBytes ||
      r.memoryBytes > L.maxMemoryBytes
    )
      add('resources.memoryBytes', `must be between ${L.minMemoryBytes} and ${L.maxMemoryBytes} bytes`);
    if (!Number.isInteger(r.nanoCpus) || r.nanoCpus < L.minNanoCpus || r.nanoCpus > L.maxNanoCpus)
      add('resources.nanoCpus', `must be between ${L.minNanoCpus} and ${L.maxNanoCpus}`);
    if (!Number.isInteger(r.pidsLimit) || r.pidsLimit < L.minPidsLimit || r.pidsLimit > L.maxPidsLimit)
      add('resources.pidsLimit', `must be between ${L.minPidsLimit} and ${L.maxPidsLimit}`);
  }

  if (typeof spec.dataMountPath !== 'string' || !isCleanAbsolutePath(spec.dataMountPath))
    add('dataMountPath', 'must be a clean absolute path');
  else if (FORBIDDEN_MOUNTS.includes(spec.dataMountPath))
    add('dataMountPath', `must not be ${spec.dataMountPath}`);

  const files = spec.files ?? [];
  if (files.length > L.maxFiles) add('files', `at most ${L.maxFiles} files`);
  files.forEach((f, i) => {
    if (typeof f?.path !== 'string' || !isSafeRelativePath(f.path))
      add(`files[${i}].path`, 'must be a relative path inside the data directory (no "..", no leading "/")');
    if (typeof f?.content !== 'string' || Buffer.byteLength(f.content) > L.maxFileBytes)
      add(`files[${i}].content`, 'must be a string of at most 1 MiB');
    if (f?.mode !== undefined && (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o777))
      add(`files[${i}].mode`, 'must be a permission mode 0-0777 (no setuid/setgid/sticky)');
  });

  if (typeof spec.readOnlyRootfs !== 'boolean') add('readOnlyRootfs', 'must be true or false');
  if (!Array.isArray(spec.capAdd)) add('capAdd', 'must be a list');
  else
    for (const cap of spec.capAdd) {
      const bare = String(cap).toUpperCase().replace(/^CAP_/, '');
      if (!CAP_ALLOW_LIST.includes(bare))
        add('capAdd', `${String(cap).slice(0, 32)} is not allowed (allowed: ${CAP_ALLOW_LIST.join(', ')})`);
    }
  return errors;
}

/** Throws InvalidArgumentError (-> gRPC INVALID_ARGUMENT, HTTP 400) naming every problem. */
export function validateDeploySpec(spec: SlotDeploySpec): void {
  const errors = deploySpecProblems(spec);
  const fields = Object.keys(errors);
  if (fields.length === 0) return;
  const summary = fields.map((f) => `${f}: ${errors[f].join('; ')}`).join(', ');
  throw new InvalidArgumentError(`deploy spec refused by policy: ${summary}`, errors);
}

function isCleanAbsolutePath(p: string): boolean {
  if (!p.startsWith('/') || p.length > 1024 || p.includes('\0')) return false;
  if (p === '/') return true;
  const parts = p.slice(1).split('/');
  return parts.every((s) => s !== '' && s !== '.' && s !== '..' && !/[\s:]/.test(s));
}

function isSafeRelativePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\0') || p.includes('\\') || p.length > 512) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
