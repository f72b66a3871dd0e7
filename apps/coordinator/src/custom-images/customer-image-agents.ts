import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentTypeRecord } from '../registry/registry.types';

/**
 * Whether an agent type runs an image its customers name rather than one the platform chose: its
 * template.json takes the image from the slot's settings (`image_from_config`; the catalogue's
 * `custom` agent). Read from the template files the agent's row carries, or, for a row written
 * before rows carried them, from its folder under the templates directory.
 */
export function takesCustomerImage(agent: Pick<AgentTypeRecord, 'id' | 'template_files'>, templatesDir: string): boolean {
  let text = agent.template_files?.options;
  if (text === undefined && !agent.template_files) {
    const file = join(templatesDir, 'agents', agent.id, 'template.json');
    text = /^[a-z0-9][a-z0-9_-]*$/.test(agent.id) && existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  }
  if (!text) return false;
  try {
    const options = JSON.parse(text) as { image_from_config?: unknown };
    return typeof options.image_from_config === 'string' && options.image_from_config !== '';
  } catch {
    return false;
  }
}
