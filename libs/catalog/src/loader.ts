import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { imageRefProblem } from '@berth/domain';
import type { AgentManifest, LlmProviderManifest } from './manifest';
import { agentManifestSchema, llmProvidersFileSchema } from './schemas';

export interface Catalogue {
  agents: AgentManifest[];
  providers: LlmProviderManifest[];
  /** Each agent's template files as text (compiled and policy-checked by libs/templates), by agent id. */
  templates: Record<string, AgentTemplateFiles>;
}

/** An agent type's template files: compose.yaml.hbs, and config.json.hbs / template.json when it has them. */
export interface AgentTemplateFiles {
  compose: string;
  config_overlay?: string;
  options?: string;
}

/** Where the catalogue comes from: the templates folder, and folders of community agents. */
export interface CatalogueSources {
  /** Holds llm-providers.json and agents/<id>/ (default: the repository's templates/). */
  templatesDir?: string;
  /** Extra folders of `<id>/manifest.json` + templates (BERTH_CATALOGUE_DIRS): community agents. */
  extraAgentDirs?: string[];
}

/** A catalogue file is missing, unreadable or invalid; the message names the file. */
export class CatalogueError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'CatalogueError';
  }
}

/** The repository's templates/ folder (works from sources and from dist/). */
export function defaultTemplatesDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'templates', 'llm-providers.json');
    try {
      statSync(candidate);
      return join(dir, 'templates');
    } catch {
      dir = resolve(dir, '..');
    }
  }
  return resolve(process.cwd(), 'templates');
}

/** An ajv for customer-supplied config objects (JSON Schema 2020-12, all errors, formats). */
export function createConfigAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

function readJson(file: string, shown: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CatalogueError(shown, [`cannot read: ${(e as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CatalogueError(shown, [`not valid JSON: ${(e as Error).message}`]);
  }
}

/**
 * Reads templates/llm-providers.json, templates/agents/<id>/ and every extra agents folder
 * (community agents: the same layout), validates each manifest against its schema and the
 * cross-file rules, and returns them sorted by id with their template files. Throws
 * CatalogueError naming the file at the first bad file; an id defined twice names both.
 */
export function loadCatalogue(sources: string | CatalogueSources = {}): Catalogue {
  const { templatesDir = defaultTemplatesDir(), extraAgentDirs = [] } = typeof sources === 'string' ? { templatesDir: sources } : sources;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validateProviders = ajv.compile(llmProvidersFileSchema);
  const shown = (f: string) => relative(process.cwd(), f) || f;

  const providersFile = join(templatesDir, 'llm-providers.json');
  const rawProviders = readJson(providersFile, shown(providersFile));
  if (!validateProviders(rawProviders)) throw new CatalogueError(shown(providersFile), formatAjvErrors(validateProviders.errors));
  const providers = (rawProviders as { providers: LlmProviderManifest[] }).providers;
  const providerIds = new Set<string>();
  for (const p of providers) {
    const problems: string[] = [];
    if (providerIds.has(p.id)) problems.push(`duplicate provider id '${p.id}'`);
    providerIds.add(p.id);
    try {
      new RegExp(p.key_pattern);
    } catch (e) {
      problems.push(`provider '${p.id}': key_pattern is not a valid regex (${(e as Error).message})`);
    }
    if (!p.requires_base_url && !p.base_url) problems.push(`provider '${p.id}': base_url is required unless requires_base_url is true`);
    if (problems.length) throw new CatalogueError(shown(providersFile), problems);
  }

  const agents: AgentManifest[] = [];
  const templates: Record<string, AgentTemplateFiles> = {};
  const from = new Map<string, string>();
  for (const agentsDir of [join(templatesDir, 'agents'), ...extraAgentDirs]) {
    if (!existsSync(agentsDir)) throw new CatalogueError(shown(agentsDir), ['no such folder']);
    for (const entry of readdirSync(agentsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = join(agentsDir, entry.name);
      const file = join(dir, 'manifest.json');
      const name = shown(file);
      const raw = readJson(file, name);
      const checked = checkAgentManifest(raw, providerIds);
      const problems = 'problems' in checked ? [...checked.problems] : [];
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && id !== entry.name) problems.push(`id '${id}' must equal its folder name '${entry.name}'`);
      const first = typeof id === 'string' ? from.get(id) : undefined;
      if (first) problems.push(`agent id '${id}' is already defined by ${first}`);
      const composeFile = join(dir, 'compose.yaml.hbs');
      if (!existsSync(composeFile)) problems.push('compose.yaml.hbs is missing beside it');
      if (problems.length || 'problems' in checked) throw new CatalogueError(name, problems);
      const m = checked.manifest;
      from.set(m.id, name);
      const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
      templates[m.id] = { compose: readFileSync(composeFile, 'utf8'), config_overlay: read('config.json.hbs'), options: read('template.json') };
      agents.push(m);
    }
  }
  if (agents.length === 0) throw new CatalogueError(shown(join(templatesDir, 'agents')), ['no agent manifests found']);
  agents.sort((a, b) => a.id.localeCompare(b.id));
  return { agents, providers: [...providers].sort((a, b) => a.id.localeCompare(b.id)), templates };
}

const agentAjv = new Ajv2020({ allErrors: true, strict: false });
addFormats(agentAjv);
const validateAgent = agentAjv.compile(agentManifestSchema);
const configAjv = createConfigAjv();

function formatAjvErrors(errs: { instancePath: string; message?: string; params?: Record<string, unknown> }[] | null | undefined): string[] {
  return (errs ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${e.params.additionalProperty}'` : ''}`);
}

/**
 * One agent manifest against the schema and the rules that do not need its folder: ports and
 * health port, an exact image for a ready agent, config_file with a template, known providers,
 * a config_schema that compiles. The catalogue loader and POST /api/admin/agent-types share it;
 * each problem starts with the JSON pointer of the field it is about.
 */
export function checkAgentManifest(raw: unknown, providerIds: ReadonlySet<string>): { manifest: AgentManifest } | { problems: string[] } {
  if (!validateAgent(raw)) return { problems: formatAjvErrors(validateAgent.errors) };
  const m = raw as unknown as AgentManifest;
  const problems: string[] = [];
  const portNames = m.ports.map((p) => p.name);
  if (new Set(portNames).size !== portNames.length) problems.push('/ports port names must be unique');
  if (!m.ports.some((p) => p.container_port === m.internal_port)) problems.push(`/internal_port ${m.internal_port} is not among ports`);
  if (m.health_port_name && !portNames.includes(m.health_port_name)) problems.push(`/health_port_name '${m.health_port_name}' is not among ports`);
  // Docker's grammar (registry host with port, digests); a ready agent must name one exact image.
  const imageProblem = imageRefProblem(m.base_image, { pinned: m.status === 'ready' });
  if (imageProblem) problems.push(`/base_image ${imageProblem}`);
  if (m.config_file && (m.config_template === null || m.config_template === undefined)) problems.push('/config_file needs a config_template');
  for (const pid of Object.keys(m.llm_providers)) {
    if (!providerIds.has(pid)) problems.push(`/llm_providers unknown provider '${pid}' (not in llm-providers.json)`);
  }
  try {
    configAjv.compile(m.config_schema);
  } catch (e) {
    problems.push(`/config_schema is not a valid JSON Schema: ${(e as Error).message}`);
  }
  return problems.length ? { problems } : { manifest: m };
}

/** "512M" / "1G" -> MiB. */
export function parseMemoryMiB(value: string): number {
  const m = /^([0-9]+)([MG])$/.exec(value);
  if (!m) throw new Error(`bad memory value '${value}'`);
  return Number(m[1]) * (m[2] === 'G' ? 1024 : 1);
}
