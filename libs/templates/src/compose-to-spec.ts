import YAML from 'yaml';
import { InvalidArgumentError, type SlotDeploySpec, type SlotFileSpec } from '@berth/domain';
import { checkComposePolicy, type PolicyContext } from './policy';

/** A deploy spec before the deployments service gives it its ids. */
export type SlotDeploySpecDraft = Omit<SlotDeploySpec, 'deploymentId' | 'slotId' | 'customerId'>;

export interface SpecContext extends PolicyContext {
  agentTypeId: string;
  agentVersion: string;
  health?: { path: string; portName: string; startPeriodMs: number };
  files?: SlotFileSpec[];
}

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

/**
 * Parse rendered compose YAML strictly: duplicate keys, anchors/aliases, tags and
 * multiple documents are refused (none is needed by a template, and each is a way to make
 * what is checked differ from what is read).
 */
export function parseComposeYaml(text: string, name = 'compose'): unknown {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: false });
  if (!Array.isArray(docs)) throw new InvalidArgumentError(`${name}: not a YAML document`);
  if (docs.length !== 1) throw new InvalidArgumentError(`${name}: exactly one YAML document is required, found ${docs.length}`);
  const doc = docs[0];
  if (doc.errors.length > 0) {
    throw new InvalidArgumentError(`${name}: invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  const problems: string[] = [];
  YAML.visit(doc, {
    Alias() {
      problems.push('aliases are not allowed');
      return YAML.visit.BREAK;
    },
    Node(_key, node) {
      if (node.anchor) problems.push(`anchor &${node.anchor} is not allowed`);
      if (node.tag && !CORE_TAGS.has(node.tag)) problems.push(`tag ${node.tag} is not allowed`);
    },
  });
  if (problems.length > 0) throw new InvalidArgumentError(`${name}: ${[...new Set(problems)].join('; ')}`);
  return doc.toJS({ maxAliasCount: 0 });
}

/** Throws InvalidArgumentError listing every violation; the fields carry them as `policy`. */
export function composeToSpec(yamlText: string, ctx: SpecContext): SlotDeploySpecDraft {
  const doc = parseComposeYaml(yamlText, `${ctx.agentTypeId} compose`);
  const { violations, service } = checkComposePolicy(doc, ctx);
  if (violations.length > 0 || !service) {
    throw new InvalidArgumentError(`${ctx.agentTypeId} compose refused by the platform policy: ${violations.join('; ')}`, {
      policy: violations,
    });
  }
  const spec: SlotDeploySpecDraft = {
    agentTypeId: ctx.agentTypeId,
    agentVersion: ctx.agentVersion,
    image: service.image,
    env: service.env,
    ports: ctx.agent.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, publish: service.publishedPorts.has(p.name) })),
    resources: { ...ctx.resources },
    dataMountPath: ctx.dataDir,
    readOnlyRootfs: service.readOnlyRootfs,
    capAdd: service.capAdd,
  };
  if (service.entrypoint) spec.entrypoint = service.entrypoint;
  if (service.command) spec.command = service.command;
  if (service.user) spec.user = service.user;
  if (service.workingDir) spec.workingDir = service.workingDir;
  if (ctx.health) {
    spec.health = {
      path: ctx.health.path,
      portName: ctx.health.portName,
      startPeriodMs: ctx.health.startPeriodMs,
      intervalMs: 5000,
      timeoutMs: 3000,
      failureThreshold: 3,
    };
  }
  if (ctx.files && ctx.files.length > 0) spec.files = ctx.files;
  return spec;
}
