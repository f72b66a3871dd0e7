import YAML from 'yaml';
import type { SlotFileSpec, SlotResources } from '@berth/domain';
import { parseComposeYaml } from './compose-to-spec';

/** A secret value and the variable that replaces it in the exported file. */
export interface ExportSecret {
  variable: string;
  value: string;
}

export interface ExportInput {
  /** The rendered compose YAML (with secrets), already accepted by the policy. */
  composeYaml: string;
  secrets: ExportSecret[];
  files: SlotFileSpec[];
  dataDir: string;
  resources: SlotResources;
  /** Host-port placeholders (`${GATEWAY_HOST_PORT:-18789}`): kept as compose interpolation. */
  portPlaceholders: string[];
  agentTypeId: string;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The compose file a customer downloads (GET /api/slot/compose): the same service, with
 * every secret replaced by `${VARIABLE}` (to be given in an .env file), every other `$`
 * doubled so compose does not interpolate customer text, the platform's hardening and
 * limits written out, and config files inlined as compose `configs:` mounted into the
 * data volume. Never contains a secret value.
 */
export function exportCompose(input: ExportInput): string {
  const secrets = input.secrets.filter((s) => s.value.length > 0).sort((a, b) => b.value.length - a.value.length);
  const keep = new Set(input.portPlaceholders);
  const used = new Set<string>();

  const redactString = (s: string): string => {
    if (keep.has(s)) return s;
    // Split on every secret occurrence (longest first), escape '$' in the rest.
    let parts: (string | { v: string })[] = [s];
    for (const secret of secrets) {
      parts = parts.flatMap((p) => {
        if (typeof p !== 'string' || !p.includes(secret.value)) return [p];
        used.add(secret.variable);
        const pieces = p.split(secret.value);
        return pieces.flatMap((piece, i) => (i === 0 ? [piece] : [{ v: secret.variable }, piece]));
      });
    }
    return parts.map((p) => (typeof p === 'string' ? p.replace(/\$/g, '$$$$') : '${' + p.v + '}')).join('');
  };
  const redact = (v: unknown): unknown => {
    if (typeof v === 'string') return redactString(v);
    if (Array.isArray(v)) return v.map(redact);
    if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [redactString(k), redact(x)]));
    return v;
  };

  const doc = redact(parseComposeYaml(input.composeYaml)) as Record<string, unknown>;
  const services = doc.services as Record<string, Record<string, unknown>>;
  const [name] = Object.keys(services);
  const svc = services[name];
  delete svc.mem_limit;
  delete svc.cpus;
  delete svc.pids_limit;
  svc.cap_drop = ['ALL'];
  svc.security_opt = ['no-new-privileges:true'];
  svc.deploy = {
    resources: {
      limits: {
        memory: `${input.resources.memoryBytes}b`,
        cpus: String(input.resources.nanoCpus / 1e9),
        pids: input.resources.pidsLimit,
      },
    },
  };
  svc.volumes = [{ type: 'volume', source: 'data', target: input.dataDir }];
  // A read-only root filesystem gets the writable /tmp the node daemon gives it.
  if (svc.read_only === true) svc.tmpfs = ['/tmp:rw,nosuid,nodev,size=64m'];
  doc.volumes = { data: {} };
  if (input.files.length > 0) {
    const configs: Record<string, unknown> = {};
    svc.configs = input.files.map((f, i) => {
      const id = `${input.agentTypeId}_config_${i}`;
      configs[id] = { content: redactString(f.content) };
      // Read-only and world-readable: compose writes it as root, the agent may run as any uid.
      return { source: id, target: `${input.dataDir}/${f.path}`, mode: 0o444 };
    });
    doc.configs = configs;
  }

  const out = new YAML.Document(doc);
  const vars = [...used].sort();
  out.commentBefore = [
    ` Berth: ${input.agentTypeId} exported from your slot.`,
    ' Run elsewhere with: docker compose --env-file .env up -d',
    vars.length > 0 ? ` Put these in .env (secrets are never exported): ${vars.join(', ')}` : ' No secrets are needed.',
    ' Host ports default to the container ports; override with <NAME>_HOST_PORT in .env.',
    input.files.length > 0 ? ' Config files are inlined under configs: (mounted read-only over the data volume).' : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
  return out.toString({ lineWidth: 0 });
}
