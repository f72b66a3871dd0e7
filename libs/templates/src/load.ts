import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@berth/domain';
import { compileTemplate, type CompiledTemplate } from './render';
import type { TemplateOptions } from './values';

/** An agent type's template files, compiled and checked. */
export interface AgentTemplate {
  agentTypeId: string;
  /** templates/agents/<id>/compose.yaml.hbs */
  compose: CompiledTemplate;
  /** templates/agents/<id>/config.json.hbs: overlay on the manifest's config_template, when any. */
  configOverlay?: CompiledTemplate;
  /** templates/agents/<id>/template.json, when any. */
  options: TemplateOptions;
}

const OPTION_KEYS = ['image_from_config', 'port_from_config', 'health_endpoint_from_config', 'default_models'];

export function parseAgentTemplate(
  agentTypeId: string,
  files: { compose: string; configOverlay?: string; options?: string },
): AgentTemplate {
  let options: TemplateOptions = {};
  if (files.options !== undefined) {
    try {
      options = JSON.parse(files.options) as TemplateOptions;
    } catch (e) {
      throw new InvalidArgumentError(`${agentTypeId}/template.json: not valid JSON: ${(e as Error).message}`);
    }
    const unknown = Object.keys(options).filter((k) => !OPTION_KEYS.includes(k));
    if (unknown.length > 0) throw new InvalidArgumentError(`${agentTypeId}/template.json: unknown keys ${unknown.join(', ')}`);
  }
  return {
    agentTypeId,
    compose: compileTemplate(`${agentTypeId}/compose.yaml.hbs`, files.compose, 'yaml'),
    configOverlay:
      files.configOverlay === undefined ? undefined : compileTemplate(`${agentTypeId}/config.json.hbs`, files.configOverlay, 'json'),
    options,
  };
}

/** Read and compile templates/agents/<id>/{compose.yaml.hbs, config.json.hbs?, template.json?}. */
export function loadAgentTemplate(agentsDir: string, agentTypeId: string): AgentTemplate {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(agentTypeId)) throw new InvalidArgumentError(`'${agentTypeId}' is not an agent type id`);
  const dir = join(agentsDir, agentTypeId);
  const composePath = join(dir, 'compose.yaml.hbs');
  if (!existsSync(composePath)) throw new NotFoundError(`no compose template for agent type '${agentTypeId}' (${composePath})`);
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  return parseAgentTemplate(agentTypeId, {
    compose: readFileSync(composePath, 'utf8'),
    configOverlay: read('config.json.hbs'),
    options: read('template.json'),
  });
}
