/* global CSS */
// Form pieces shared by the signup and switch screens: agent/provider/key fields, config fields
// generated from the agent's JSON schema, add-on checkboxes, and per-field error display.
import { api } from './api.js';
import { h, humanize, mount, usd } from './dom.js';

let cached = null;

/** The marketplace, read once per page load: { plan, agents, providers, stacks }. */
export async function loadCatalogue() {
  if (!cached) {
    cached = Promise.all([
      api('GET', '/api/marketplace/agents'),
      api('GET', '/api/marketplace/llm-providers'),
      api('GET', '/api/marketplace/stacks'),
    ]).then(([a, p, s]) => ({ plan: a.plan, agents: a.agents, providers: p.llm_providers, stacks: s }));
    cached.catch(() => (cached = null));
  }
  return cached;
}

export const canSignUp = (agent) => agent.is_active !== false && agent.status !== 'planned';

/** A labelled field with a hint and a place for the server's messages about it. */
export function field(name, label, control, hint, { id } = {}) {
  const cid = id ?? control.id;
  const errId = `${cid}-error`;
  const hintId = hint ? `${cid}-hint` : null;
  control.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  const isCheck = control.type === 'checkbox';
  return h(
    'div',
    { class: isCheck ? 'field check' : 'field', dataset: { field: name } },
    isCheck ? h('label', { for: cid }, control, ' ', label) : [h('label', { for: cid }, label), control],
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'error', id: errId, role: 'alert', dataset: { errorFor: name } }),
  );
}

/** Clears old messages and puts each of `fields` next to its field (the rest in `general`). */
export function showErrors(form, general, err) {
  for (const p of form.querySelectorAll('[data-error-for]')) p.textContent = '';
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const left = [];
  for (const [name, msgs] of Object.entries(err?.fields ?? {})) {
    const text = (Array.isArray(msgs) ? msgs : [msgs]).join('; ');
    let key = name;
    let target = null;
    // config.model -> the config field "model"; an unknown config path -> the config group.
    while (key && !(target = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`)))
      key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
    if (target) {
      target.textContent = target.textContent ? `${target.textContent}; ${text}` : text;
      target
        .closest('[data-field]')
        ?.querySelector('input, select, textarea')
        ?.setAttribute('aria-invalid', 'true');
    } else left.push(`${name}: ${text}`);
  }
  const msg = left.length
    ? left.join(' · ')
    : err && !Object.keys(err.fields ?? {}).length
      ? err.message
      : Object.keys(err?.fields ?? {}).length
        ? 'Please correct the fields marked below.'
        : '';
  general.textContent = msg;
  general.hidden = !msg;
  form.querySelector('[aria-invalid="true"]')?.focus();
}

function configControl(prefix, name, schema, required, group) {
  const id = `${prefix}-${group}-${name}`;
  const label = `${schema.title ?? humanize(name)}${required ? '' : ' (optional)'}`;
  let control;
  let read;
  let hint = schema.description ?? null;
  if (schema.type === 'boolean') {
    control = h('input', { id, type: 'checkbox', checked: schema.default === true });
    read = () => control.checked;
  } else if (Array.isArray(schema.enum)) {
    control = h(
      'select',
      { id },
      required ? null : h('option', { value: '' }, '(default)'),
      schema.enum.map((v) => h('option', { value: String(v) }, String(v))),
    );
    if (schema.default !== undefined) control.value = String(schema.default);
    read = () => (control.value === '' ? undefined : schema.enum.find((v) => String(v) === control.value));
  } else if (schema.type === 'array') {
    control = h('input', { id, type: 'text', autocomplete: 'off', placeholder: 'comma, separated, values' });
    hint = [hint, 'Separate several values with commas.'].filter(Boolean).join(' ');
    read = () => {
      const list = control.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      return list.length ? list : undefined;
    };
  } else if (schema.type === 'integer' || schema.type === 'number') {
    control = h('input', {
      id,
      type: 'number',
      step: schema.type === 'integer' ? '1' : 'any',
      min: schema.minimum,
      max: schema.maximum,
    });
    read = () => (control.value === '' ? undefined : Number(control.value));
  } else {
    const long = (schema.maxLength ?? 0) > 500;
    control = long
      ? h('textarea', { id, rows: 3, maxlength: schema.maxLength })
      : h('input', { id, type: 'text', autocomplete: 'off', maxlength: schema.maxLength });
    read = () => (control.value.trim() === '' ? undefined : control.value);
  }
  if (required && control.type !== 'checkbox') control.required = true;
  control.name = `${group}.${name}`;
  return { el: field(`${group}.${name}`, label, control, hint), read, control };
}

/**
 * Inputs for an agent's config_schema (strings, enums, string arrays, booleans, numbers), sent as
 * `group` (`config`, or `custom_image` for the custom agent). Object-valued settings (a custom
 * image's env) have no input: the values given are sent back as they were.
 */
export function configFields(prefix, schema, values = {}, group = 'config') {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  const kept = Object.entries(props)
    .filter(([name, s]) => s.type === 'object' && values?.[name] !== undefined && values?.[name] !== null)
    .map(([name]) => [name, values[name]]);
  const controls = Object.entries(props)
    .filter(([, s]) => s.type !== 'object')
    .map(([name, s]) => [name, configControl(prefix, name, s, required.has(name), group)]);
  for (const [name, c] of controls) {
    const v = values?.[name];
    if (v === undefined || v === null) continue;
    if (c.control.type === 'checkbox') c.control.checked = v === true;
    else c.control.value = Array.isArray(v) ? v.join(', ') : String(v);
  }
  const el = h(
    'fieldset',
    { class: 'config', dataset: { field: group } },
    h('legend', {}, 'Agent settings'),
    controls.length
      ? controls.map(([, c]) => c.el)
      : h('p', { class: 'hint' }, 'This agent has no settings.'),
    h('p', { class: 'error', role: 'alert', dataset: { errorFor: group } }),
  );
  const read = () => {
    const out = Object.fromEntries(kept);
    for (const [name, c] of controls) {
      const v = c.read();
      if (v !== undefined) out[name] = v;
    }
    return out;
  };
  return { el, read, group };
}

/**
 * Agent, provider (only those the agent supports), API key (with the provider's hint), base URL,
 * Telegram token and the agent's settings. `keyOptional`: a switch may keep the current key.
 */
export function selectionFields(
  prefix,
  cat,
  { agentId, providerId, config, keyOptional = false, onAgent } = {},
) {
  const agents = cat.agents;
  const providers = new Map(cat.providers.map((p) => [p.id, p]));
  const agentSel = h(
    'select',
    { id: `${prefix}-agent`, name: 'agent_type_id', required: true },
    agents.map((a) =>
      h(
        'option',
        { value: a.id, disabled: !canSignUp(a) },
        canSignUp(a) ? `${a.name} (${usd(a.monthly_price_usd)}/month)` : `${a.name} (coming soon)`,
      ),
    ),
  );
  const firstOk = agents.find(canSignUp);
  agentSel.value = agents.some((a) => a.id === agentId && canSignUp(a)) ? agentId : (firstOk?.id ?? '');
  const providerSel = h('select', { id: `${prefix}-provider`, name: 'llm_provider_id', required: true });
  const key = h('input', {
    id: `${prefix}-key`,
    name: 'llm_api_key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: !keyOptional,
  });
  const keyHint = h('span');
  const baseUrl = h('input', {
    id: `${prefix}-base-url`,
    name: 'llm_base_url',
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    placeholder: 'https://llm.example.com/v1',
  });
  const baseLabel = h('span');
  const telegram = h('input', {
    id: `${prefix}-telegram`,
    name: 'telegram_bot_token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: '123456789:AA…',
  });
  const telegramField = field(
    'telegram_bot_token',
    'Telegram bot token (optional)',
    telegram,
    'From @BotFather. Leave empty to add a channel later.',
  );
  const agentInfo = h('p', { class: 'hint', id: `${prefix}-agent-hint` });
  const configBox = h('div');
  let cfg = configFields(prefix, {});

  const agent = () => agents.find((a) => a.id === agentSel.value);
  const provider = () => providers.get(providerSel.value);

  const onProvider = () => {
    const p = provider();
    mount(
      keyHint,
      p ? `${p.name} key: ${p.key_hint}.` : '',
      keyOptional ? ' Leave empty to keep the key you gave before (same provider only).' : '',
    );
    const needsUrl = !!p?.requires_base_url;
    baseUrl.required = needsUrl;
    mount(baseLabel, needsUrl ? `Base URL (required for ${p.name})` : 'Base URL (optional)');
    baseUrl.placeholder = p?.base_url ?? 'https://llm.example.com/v1';
  };
  const onAgentChange = (keepConfig) => {
    const a = agent();
    // In the catalogue's order (OpenAI, Anthropic, ...), not the manifest's.
    const supported = cat.providers
      .map((p) => p.id)
      .filter((id) => (a?.supported_providers ?? []).includes(id));
    const prev = providerSel.value || providerId;
    mount(
      providerSel,
      supported.map((id) => h('option', { value: id }, providers.get(id).name)),
    );
    if (supported.includes(prev)) providerSel.value = prev;
    mount(
      agentInfo,
      a
        ? [
            a.description ?? '',
            a.language ? ` Written in ${a.language}.` : '',
            ` Needs ${a.min_memory ?? '—'} memory, ${a.min_cpu ?? '—'} CPU.`,
          ]
        : '',
    );
    telegramField.hidden = !a?.telegram;
    if (!a?.telegram) telegram.value = '';
    // The custom agent's settings are its custom_image (a private image's registry_auth: through the API).
    cfg = configFields(prefix, a?.config_schema ?? {}, keepConfig ? config : {}, a?.id === 'custom' ? 'custom_image' : 'config');
    mount(configBox, cfg.el);
    onProvider();
    onAgent?.(a);
  };
  agentSel.addEventListener('change', () => onAgentChange(false));
  providerSel.addEventListener('change', onProvider);

  const el = h(
    'div',
    { class: 'selection' },
    field('agent_type_id', 'Agent', agentSel, null),
    agentInfo,
    field(
      'llm_provider_id',
      'LLM provider',
      providerSel,
      'Only the providers this agent supports are listed.',
    ),
    field('llm_api_key', keyOptional ? 'API key (optional)' : 'API key', key, keyHint, { id: key.id }),
    field(
      'llm_base_url',
      baseLabel,
      baseUrl,
      'An OpenAI-compatible endpoint; leave empty to use the provider’s own.',
      { id: baseUrl.id },
    ),
    telegramField,
    configBox,
  );
  onAgentChange(true);

  const value = () => {
    const v = { agent_type_id: agentSel.value, llm_provider_id: providerSel.value, [cfg.group]: cfg.read() };
    if (key.value.trim()) v.llm_api_key = key.value.trim();
    if (baseUrl.value.trim()) v.llm_base_url = baseUrl.value.trim();
    if (telegram.value.trim() && agent()?.telegram) v.telegram_bot_token = telegram.value.trim();
    return v;
  };
  return {
    el,
    value,
    agent,
    agentSelect: agentSel,
    clearSecrets: () => ((key.value = ''), (telegram.value = '')),
  };
}

const ADDON_NAMES = ['memory', 'cpu', 'priority_support'];

/** Add-on checkboxes with their prices; those the agent needs are ticked, locked and explained. */
export function addonFields(prefix, plan, { current = {}, onChange, legend = 'Add-ons' } = {}) {
  const boxes = new Map();
  const notes = new Map();
  const items = ADDON_NAMES.filter((n) => plan.addons?.[n]).map((n) => {
    const a = plan.addons[n];
    const box = h('input', {
      id: `${prefix}-addon-${n}`,
      type: 'checkbox',
      name: `addons.${n}`,
      checked: !!current[n],
      on: { change: () => onChange?.() },
    });
    const note = h('span', { class: 'required-note' });
    boxes.set(n, box);
    notes.set(n, note);
    return h(
      'label',
      { class: 'addon', for: box.id },
      box,
      h('span', { class: 'addon-name' }, a.description ?? humanize(n)),
      h('span', { class: 'addon-price' }, `+${usd(a.monthly_price_usd)}/month`),
      note,
    );
  });
  const el = h(
    'fieldset',
    { class: 'addons', dataset: { field: 'addons' } },
    legend ? h('legend', {}, legend) : null,
    items,
    h('p', { class: 'error', role: 'alert', dataset: { errorFor: 'addons' } }),
  );
  /** Tick and lock what `agent` needs; unlock the rest (keeping the customer's choice). */
  const requireFor = (agent) => {
    const need = new Set(agent?.required_addons ?? []);
    for (const [n, box] of boxes) {
      const was = box.disabled;
      box.disabled = need.has(n);
      if (need.has(n)) box.checked = true;
      else if (was) box.checked = !!current[n];
      const r = agent?.resources;
      const why =
        n === 'memory'
          ? `${agent?.min_memory} memory; the base slot has ${r?.plan_memory_mb ?? plan.memory_mb} MB`
          : `${agent?.min_cpu} CPU; the base slot has ${r?.plan_cpu ?? plan.cpu_millis / 1000} CPU`;
      mount(notes.get(n), need.has(n) ? `Required: ${agent.name} needs ${why}.` : '');
    }
  };
  const value = () =>
    Object.fromEntries(ADDON_NAMES.filter((n) => boxes.has(n)).map((n) => [n, boxes.get(n).checked]));
  const price = () =>
    plan.monthly_price_usd +
    ADDON_NAMES.reduce((s, n) => s + (boxes.get(n)?.checked ? plan.addons[n].monthly_price_usd : 0), 0);
  return { el, value, price, requireFor };
}
