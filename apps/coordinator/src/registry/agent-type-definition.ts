/**
 * A community agent type sent to POST /api/admin/agent-types: the same manifest and template
 * files as a folder under templates/agents or BERTH_CATALOGUE_DIRS, checked the same way (the
 * catalogue's manifest rules, the template compiler, and a dry-run render of every provider it
 * offers through the platform policy), so nothing the loader would refuse gets in through the API.
 * Every problem is reported under the field it is about (`manifest.internal_port`,
 * `templates.compose`), as the API's other 400s are.
 */
import { checkAgentManifest, parseMemoryMiB, type AgentManifest, type AgentTemplateFiles } from '@berth/catalog';
import { DomainError, GiB, InvalidArgumentError, MiB, NANO_CPUS, type FieldErrors } from '@berth/domain';
import { parseAgentTemplate, renderSlot, type AgentTemplate } from '@berth/templates';
import { z } from 'zod';

export const agentTypeDefinitionSchema = z.strictObject({
  manifest: z.record(z.string(), z.unknown(), 'must be the agent manifest (an object)'),
  templates: z.strictObject(
    {
      compose: z.string('is required: the compose.yaml.hbs template').min(1, 'is required').max(64_000),
      config_overlay: z.string().max(64_000).optional(),
      options: z.string().max(16_000).optional(),
    },
    'must be an object with compose (and optionally config_overlay, options)',
  ),
});
export type AgentTypeDefinition = z.infer<typeof agentTypeDefinitionSchema>;

/** `/ports/0/container_port must be <= 65535` -> field `manifest.ports.0.container_port`. */
function manifestField(problem: string): [string, string] {
  const m = /^(\/[^\s]*|\(root\))\s+(.*)$/.exec(problem);
  if (!m || m[1] === '(root)') return ['manifest', m ? m[2] : problem];
  return [`manifest${m[1].replace(/\//g, '.')}`, m[2]];
}

const add = (fields: FieldErrors, key: string, message: string) => void (fields[key] ??= []).push(message);

/** Checks a definition; returns the manifest and files to store, or throws a 400 naming each bad field. */
export function checkAgentTypeDefinition(def: AgentTypeDefinition, providerIds: ReadonlySet<string>): { manifest: AgentManifest; files: AgentTemplateFiles } {
  const fields: FieldErrors = {};
  const checked = checkAgentManifest(def.manifest, providerIds);
  if ('problems' in checked) for (const p of checked.problems) add(fields, ...manifestField(p));
  const files: AgentTemplateFiles = { compose: def.templates.compose, config_overlay: def.templates.config_overlay, options: def.templates.options };
  let template: AgentTemplate | undefined;
  const id = typeof def.manifest.id === 'string' ? def.manifest.id : 'agent';
  try {
    template = parseAgentTemplate(id, { compose: files.compose, configOverlay: files.config_overlay, options: files.options });
  } catch (e) {
    add(fields, /template\.json/.test((e as Error).message) ? 'templates.options' : /config\.json/.test((e as Error).message) ? 'templates.config_overlay' : 'templates.compose', (e as Error).message);
  }
  if ('manifest' in checked && template) {
    const m = checked.manifest;
    // A dry run with sample values for every provider it offers: the policy sees exactly what a signup would make.
    const memoryBytes = Math.max(parseMemoryMiB(m.min_memory) * MiB, 512 * MiB, GiB);
    for (const providerId of Object.keys(m.llm_providers)) {
      try {
        renderSlot({
          manifest: m,
          template,
          values: {
            provider: { id: providerId, apiKey: 'sk-dry-run-0123456789abcdef', baseUrl: 'http://llm.example.com/v1' },
            gatewayToken: 'gwt-dry-run-0123456789abcdef',
            telegramToken: m.telegram_env ? '123456789:AAdry-run-telegram-token-000000000' : null,
            config: {},
            resources: { memoryBytes, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 512 },
          },
        });
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        add(fields, 'templates.compose', `with provider '${providerId}': ${e.message}`);
        break;
      }
    }
  }
  if (Object.keys(fields).length || !('manifest' in checked)) throw new InvalidArgumentError('the agent type definition is invalid', fields);
  return { manifest: checked.manifest, files: JSON.parse(JSON.stringify(files)) as AgentTemplateFiles };
}
