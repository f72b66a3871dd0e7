export { renderSlot, buildTemplateValues, type RenderSlotInput, type RenderedSlot, type SlotValues } from './render-slot';
export { loadAgentTemplate, parseAgentTemplate, type AgentTemplate } from './load';
export { compileTemplate, toYamlLiteral, type CompiledTemplate } from './render';
export { composeToSpec, parseComposeYaml, type SlotDeploySpecDraft } from './compose-to-spec';
export { checkComposePolicy, ALLOWED_SERVICE_KEYS } from './policy';
export { exportCompose } from './export';
export { hostPortPlaceholder, type TemplateValues, type TemplateOptions } from './values';
