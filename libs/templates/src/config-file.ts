import { InvalidArgumentError, type SlotFileSpec } from '@berth/domain';
import type { CompiledTemplate } from './render';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Overlay `over` on `base`: mappings merge key by key, anything else replaces, and a null in
 * the overlay leaves the base untouched (an absent optional value renders as null), and a
 * mapping only the overlay has is dropped when nothing in it is set.
 */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (over === null || over === undefined) return base;
  if (isMap(base) && isMap(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeConfig(base[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  if (isMap(over)) {
    // Only the overlay has this mapping: keep it when something in it is set.
    const out = mergeConfig({}, over) as Record<string, unknown>;
    return Object.keys(out).length > 0 ? out : base;
  }
  if (Array.isArray(over)) return over.map((e) => (isMap(e) ? mergeConfig({}, e) : e));
  return over;
}

/** Set a JSON pointer (RFC 6901), creating objects or arrays (numeric token) on the way. */
export function setPointer(doc: unknown, pointer: string, value: unknown): unknown {
  if (!pointer.startsWith('/')) throw new InvalidArgumentError(`'${pointer}' is not a JSON pointer`);
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const root: unknown = doc ?? (/^\d+$/.test(tokens[0]) ? [] : {});
  let cur = root as Record<string, unknown>;
  tokens.forEach((t, i) => {
    if (t === '__proto__' || t === 'constructor' || t === 'prototype') throw new InvalidArgumentError(`'${pointer}' is not allowed`);
    if (i === tokens.length - 1) {
      cur[t] = value;
      return;
    }
    if (typeof cur[t] !== 'object' || cur[t] === null) cur[t] = /^\d+$/.test(tokens[i + 1]) ? [] : {};
    cur = cur[t] as Record<string, unknown>;
  });
  return root;
}

/**
 * The agent's config file: the manifest's config_template, overlaid with the agent's
 * rendered `config.json.hbs` (customer values), plus the LLM key at key_config_path when the
 * agent takes its key from the file. Written into the data volume, mode 0600.
 */
export function buildConfigFile(input: {
  path: string | undefined;
  base: unknown;
  overlay?: CompiledTemplate;
  values: object;
  keyPointer?: string;
  key: string;
}): SlotFileSpec | undefined {
  if (!input.path) return undefined;
  if (input.path.split('/').some((p) => p === '..' || p === '') || input.path.startsWith('/')) {
    throw new InvalidArgumentError(`config file path '${input.path}' must be relative, without '..'`);
  }
  let doc: unknown = structuredClone(input.base ?? {});
  if (input.overlay) {
    const text = input.overlay.render(input.values);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InvalidArgumentError(`${input.overlay.name}: rendered config is not JSON: ${(e as Error).message}`);
    }
    doc = mergeConfig(doc, parsed);
  }
  if (input.keyPointer) doc = setPointer(doc, input.keyPointer, input.key);
  return { path: input.path, content: JSON.stringify(doc, null, 2) + '\n', mode: 0o600 };
}
