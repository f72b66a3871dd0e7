/* eslint-disable */
// ZeptoClaw's contract (qhkm/zeptoclaw at v0.9.2), read from its source:
//   Dockerfile, docker-entrypoint.sh       ENTRYPOINT execs "$@"; default CMD `zeptoclaw --help`
//   src/cli/mod.rs (Commands::Gateway)     `zeptoclaw gateway [--containerized [B]] [--tunnel P]`
//   src/config/mod.rs                      ~/.zeptoclaw/config.json (dirs::home_dir = $HOME), then the
//                                          ZEPTOCLAW_* env overrides it codes (and only those)
//   src/providers/registry.rs              provider selection (registry order, keys, keyless presets)
//   src/kernel/provider.rs                 which selections can really be built at runtime
//   src/config/validate.rs                 model/provider mismatch refuses to start
//   src/cli/gateway.rs                     "No AI provider configured" -> exit 1
//   src/channels/factory.rs                Telegram registered only when enabled with a token
//   src/health.rs                          health server on ZEPTOCLAW_HEALTH_HOST (127.0.0.1) :
//                                          ZEPTOCLAW_HEALTH_PORT (9090)
// Plain CommonJS, no dependencies: it also runs inside the stand-in image.
'use strict';

const DEFAULT_MODEL = 'claude-sonnet-4-6'; // src/config/types.rs COMPILE_TIME_DEFAULT_MODEL
const DEFAULT_HEALTH_PORT = 9090; // src/health.rs DEFAULT_HEALTH_PORT
const DATA_DIR = '/data'; // the image's VOLUME and the zeptoclaw user's home (Dockerfile)
const BINARY = ['zeptoclaw', '/usr/local/bin/zeptoclaw'];

// src/providers/registry.rs PROVIDER_REGISTRY, in order (every entry is runtime_supported at v0.9.2).
// base: the preset's default api_base; usable: false when this build cannot construct it.
const REGISTRY = [
  { name: 'anthropic', keywords: ['anthropic', 'claude'], backend: 'anthropic', keyRequired: true, base: 'fixed' },
  { name: 'openai', keywords: ['openai', 'gpt'], backend: 'openai', keyRequired: true, base: 'https://api.openai.com/v1' },
  { name: 'openrouter', keywords: ['openrouter'], backend: 'openai', keyRequired: true, base: 'https://openrouter.ai/api/v1' },
  { name: 'groq', keywords: ['groq'], backend: 'openai', keyRequired: true, base: 'https://api.groq.com/openai/v1' },
  { name: 'zhipu', keywords: ['zhipu', 'glm', 'zai'], backend: 'openai', keyRequired: true, base: 'https://open.bigmodel.cn/api/paas/v4' },
  { name: 'vllm', keywords: ['vllm'], backend: 'openai', keyRequired: false, base: 'http://localhost:8000/v1' },
  { name: 'gemini', keywords: ['gemini'], backend: 'openai', keyRequired: true, base: 'fixed' },
  { name: 'vertex', keywords: ['vertex'], backend: 'vertex', keyRequired: false, base: null, unusable: 'Vertex provider is configured but this build was compiled without the `provider-vertex` feature' },
  { name: 'ollama', keywords: ['ollama'], backend: 'openai', keyRequired: false, base: 'http://localhost:11434/v1' },
  { name: 'nvidia', keywords: ['nvidia', 'nim'], backend: 'openai', keyRequired: true, base: 'https://integrate.api.nvidia.com/v1' },
  { name: 'deepseek', keywords: ['deepseek'], backend: 'openai', keyRequired: true, base: 'https://api.deepseek.com/v1' },
  { name: 'kimi', keywords: ['kimi', 'moonshot'], backend: 'openai', keyRequired: true, base: 'https://api.moonshot.cn/v1' },
  { name: 'azure', keywords: ['azure'], backend: 'openai', keyRequired: true, base: null },
  { name: 'bedrock', keywords: ['bedrock', 'anthropic.claude', 'meta.llama', 'amazon.titan'], backend: 'openai', keyRequired: true, base: null },
  { name: 'xai', keywords: ['xai', 'grok'], backend: 'openai', keyRequired: true, base: 'https://api.x.ai/v1' },
  { name: 'qianfan', keywords: ['qianfan', 'ernie', 'baidu'], backend: 'openai', keyRequired: true, base: 'https://qianfan.baidubce.com/v2' },
  { name: 'novita', keywords: ['novita'], backend: 'openai', keyRequired: true, base: 'https://api.novita.ai/openai' },
];

// src/config/mod.rs apply_provider_env_overrides: the env names it reads, first match wins.
const KEY_ENV = {
  azure: ['ZEPTOCLAW_PROVIDERS_AZURE_API_KEY', 'AZURE_OPENAI_API_KEY'],
  xai: ['ZEPTOCLAW_PROVIDERS_XAI_API_KEY', 'XAI_API_KEY'],
  qianfan: ['ZEPTOCLAW_PROVIDERS_QIANFAN_API_KEY', 'QIANFAN_API_KEY'],
  novita: ['ZEPTOCLAW_PROVIDERS_NOVITA_API_KEY', 'NOVITA_API_KEY'],
};
const BASE_ENV = { azure: ['ZEPTOCLAW_PROVIDERS_AZURE_API_BASE', 'AZURE_OPENAI_ENDPOINT'] };
// ZEPTOCLAW_PROVIDERS_<X>_MODEL exists for these only.
const MODEL_ENV = ['anthropic', 'openai', 'gemini', 'vertex', 'nvidia', 'openrouter', 'groq', 'ollama', 'vllm', 'zhipu', 'deepseek', 'kimi', 'xai', 'qianfan', 'novita'];

const isMap = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const firstEnv = (env, names) => {
  for (const n of names) if (env[n] !== undefined) return { name: n, value: env[n] };
  return undefined;
};
// Rust's bool / u16 FromStr.
const parseBool = (s) => (s === 'true' ? true : s === 'false' ? false : undefined);
const parseU16 = (s) => (/^\+?[0-9]+$/.test(s) && Number(s) <= 65535 ? Number(s) : undefined);

function hasEncrypted(v) {
  if (typeof v === 'string') return v.startsWith('ENC[') && v.endsWith(']');
  if (Array.isArray(v)) return v.some(hasEncrypted);
  if (isMap(v)) return Object.values(v).some(hasEncrypted);
  return false;
}

// src/providers/registry.rs infer_provider_name_for_model
function inferProvider(model, available) {
  const m = model.toLowerCase();
  const slash = m.indexOf('/');
  if (slash >= 0) {
    const prefix = m.slice(0, slash);
    const suffix = m.slice(slash + 1);
    if (prefix === 'openrouter') return 'openrouter';
    const direct = REGISTRY.find((s) => s.name === prefix);
    if (direct && available.includes(direct.name)) return direct.name;
    if (available.includes('openrouter')) return 'openrouter';
    const kw = REGISTRY.find((s) => s.keywords.some((k) => suffix.includes(k)));
    return kw && kw.name;
  }
  const kw = REGISTRY.find((s) => s.keywords.some((k) => m.includes(k)));
  return kw && kw.name;
}

// src/config/validate.rs check_model_backend_compat
function modelMismatch(model, provider, backend) {
  const m = model.toLowerCase();
  if (backend === 'anthropic' && !m.startsWith('claude-')) {
    return `model '${model}' does not look like a Claude model (expected 'claude-*') but provider '${provider}' uses the Anthropic API`;
  }
  if (backend === 'openai' && provider === 'openai' && m.startsWith('claude-')) {
    return `model '${model}' looks like a Claude model but provider '${provider}' uses the OpenAI API`;
  }
  return undefined;
}

module.exports = function zeptoclaw({ env, argv, readConfig, home }) {
  const problems = [];

  // ---- where the health server listens (src/health.rs start_health_server_legacy, health_port)
  let host = env.ZEPTOCLAW_HEALTH_HOST !== undefined ? env.ZEPTOCLAW_HEALTH_HOST : '127.0.0.1';
  if (host === '') {
    problems.push('ZEPTOCLAW_HEALTH_HOST is empty: "Failed to start health server (non-fatal)": no health endpoint at all');
    host = '127.0.0.1';
  }
  const portEnv = env.ZEPTOCLAW_HEALTH_PORT;
  const healthPort = portEnv !== undefined && parseU16(portEnv) !== undefined ? parseU16(portEnv) : DEFAULT_HEALTH_PORT;
  if (env.STANDIN_HEALTH_PORT && Number(env.STANDIN_HEALTH_PORT) !== healthPort) {
    problems.push(
      `the health server would listen on port ${healthPort} (ZEPTOCLAW_HEALTH_PORT=${portEnv === undefined ? 'unset' : JSON.stringify(portEnv)}), ` +
        `but the platform probes ${env.STANDIN_HEALTH_PORT}`,
    );
  }
  const verdict = () => ({ problems, host });

  // ---- the command: docker-entrypoint.sh runs `exec "$@"` (as a non-root uid), CMD defaults to --help
  if (!argv || argv.length === 0) {
    problems.push('no command: the image runs its default CMD `zeptoclaw --help`, prints the help and exits; the command must be ["zeptoclaw", "gateway"]');
    return verdict();
  }
  if (!BINARY.includes(argv[0])) {
    problems.push(
      `docker-entrypoint.sh: exec: ${argv[0]}: not found (the entrypoint execs the command as given; it must be ["zeptoclaw", "gateway"])`,
    );
    return verdict();
  }
  const sub = argv[1];
  if (sub !== 'gateway') {
    problems.push(
      sub === undefined || sub === '--help' || sub === '-h' || sub === 'help'
        ? 'zeptoclaw prints its help and exits: the command must be ["zeptoclaw", "gateway"]'
        : `\`zeptoclaw ${sub}\` does not start the long-running gateway: the command must be ["zeptoclaw", "gateway"]`,
    );
    return verdict();
  }
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--containerized' || a.startsWith('--containerized=')) {
      problems.push('zeptoclaw gateway --containerized runs each agent in a Docker container: there is no Docker inside a slot');
      if (a === '--containerized' && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) i++;
    } else if (a === '--tunnel' || a.startsWith('--tunnel=')) {
      problems.push('zeptoclaw gateway --tunnel starts a public tunnel (cloudflared/ngrok/tailscale): not available in a slot');
      if (a === '--tunnel') i++;
    } else {
      problems.push(`error: unexpected argument '${a}' found (Usage: zeptoclaw gateway [OPTIONS])`);
    }
  }

  // ---- HOME: dirs::home_dir() reads $HOME; the config and all state live in ~/.zeptoclaw
  const homeDir = (home || '/').replace(/\/+$/, '') || '/';
  if (homeDir !== DATA_DIR && !homeDir.startsWith(DATA_DIR + '/')) {
    problems.push(
      `HOME is ${homeDir}: ~/.zeptoclaw (config.json, sessions, memory, workspace) would be outside the data volume ${DATA_DIR} ` +
        '(set HOME to the data dir; as uid 1000 the rest of the filesystem is not writable)',
    );
  }
  const configPath = `${homeDir === '/' ? '' : homeDir}/.zeptoclaw/config.json`;

  // ---- Config::load: the file (when present), then env overrides
  const raw = readConfig(configPath);
  let config = {};
  if (raw !== undefined) {
    if (isMap(raw) && raw.__unparsable !== undefined) {
      problems.push(`Failed to load configuration: ${configPath}: ${raw.__unparsable}`);
      return verdict();
    }
    if (!isMap(raw)) {
      problems.push(`Failed to load configuration: ${configPath}: invalid type: expected struct Config`);
      return verdict();
    }
    if (hasEncrypted(raw) && !env.ZEPTOCLAW_MASTER_KEY) {
      problems.push(`Failed to load configuration: ${configPath} has ENC[...] values and ZEPTOCLAW_MASTER_KEY is not set`);
      return verdict();
    }
    config = raw;
  }
  const typeErrors = [];
  const section = (obj, key, where) => {
    const v = obj ? obj[key] : undefined;
    if (v === undefined || v === null) return undefined;
    if (!isMap(v)) {
      typeErrors.push(`${where}: invalid type, expected a map`);
      return undefined;
    }
    return v;
  };
  const str = (obj, key, where) => {
    const v = obj ? obj[key] : undefined;
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      typeErrors.push(`${where}: invalid type, expected a string`);
      return undefined;
    }
    return v;
  };

  // Model: agents.defaults.model, env ZEPTOCLAW_AGENTS_DEFAULTS_MODEL.
  const defaults = section(section(config, 'agents', 'agents'), 'defaults', 'agents.defaults');
  let model = str(defaults, 'model', 'agents.defaults.model');
  if (model === undefined) model = DEFAULT_MODEL;
  if (env.ZEPTOCLAW_AGENTS_DEFAULTS_MODEL !== undefined) model = env.ZEPTOCLAW_AGENTS_DEFAULTS_MODEL;

  // Providers: providers.<name> from the file, then the env overrides.
  const providersCfg = section(config, 'providers', 'providers');
  const providers = {};
  for (const spec of REGISTRY) {
    const p = section(providersCfg, spec.name, `providers.${spec.name}`);
    if (p) {
      providers[spec.name] = {
        api_key: str(p, 'api_key', `providers.${spec.name}.api_key`),
        api_base: str(p, 'api_base', `providers.${spec.name}.api_base`),
        model: str(p, 'model', `providers.${spec.name}.model`),
        auth_method: str(p, 'auth_method', `providers.${spec.name}.auth_method`),
        keyFrom: `providers.${spec.name}.api_key in ${configPath}`,
      };
    }
  }
  const ensure = (name) => (providers[name] = providers[name] || { keyFrom: undefined });
  for (const spec of REGISTRY) {
    const upper = spec.name.toUpperCase();
    const hadSection = providers[spec.name] !== undefined;
    const key = firstEnv(env, KEY_ENV[spec.name] || [`ZEPTOCLAW_PROVIDERS_${upper}_API_KEY`]);
    if (key) Object.assign(ensure(spec.name), { api_key: key.value, keyFrom: key.name });
    else if (spec.name === 'bedrock' && hadSection && env.AWS_ACCESS_KEY_ID !== undefined) {
      Object.assign(ensure(spec.name), { api_key: env.AWS_ACCESS_KEY_ID, keyFrom: 'AWS_ACCESS_KEY_ID' });
    }
    const base = firstEnv(env, BASE_ENV[spec.name] || [`ZEPTOCLAW_PROVIDERS_${upper}_API_BASE`]);
    if (base) ensure(spec.name).api_base = base.value;
    if (MODEL_ENV.includes(spec.name) && env[`ZEPTOCLAW_PROVIDERS_${upper}_MODEL`] !== undefined) {
      ensure(spec.name).model = env[`ZEPTOCLAW_PROVIDERS_${upper}_MODEL`];
    }
  }

  // Telegram: channels.telegram, then ZEPTOCLAW_CHANNELS_TELEGRAM_TOKEN / _BOT_TOKEN and _ENABLED.
  const tgCfg = section(section(config, 'channels', 'channels'), 'telegram', 'channels.telegram');
  let tg = tgCfg
    ? {
        enabled: tgCfg.enabled === undefined ? false : tgCfg.enabled,
        token: str(tgCfg, 'token', 'channels.telegram.token') || '',
        allow_from: tgCfg.allow_from === undefined ? [] : tgCfg.allow_from,
        deny_by_default: tgCfg.deny_by_default === undefined ? false : tgCfg.deny_by_default,
      }
    : undefined;
  if (tg) {
    if (typeof tg.enabled !== 'boolean') typeErrors.push('channels.telegram.enabled: invalid type, expected a boolean');
    if (typeof tg.deny_by_default !== 'boolean') typeErrors.push('channels.telegram.deny_by_default: invalid type, expected a boolean');
    if (!Array.isArray(tg.allow_from) || tg.allow_from.some((x) => typeof x !== 'string')) {
      typeErrors.push('channels.telegram.allow_from: invalid type, expected a sequence of strings');
    }
  }
  const newTg = () => ({ enabled: false, token: '', allow_from: [], deny_by_default: false });
  const tgToken = firstEnv(env, ['ZEPTOCLAW_CHANNELS_TELEGRAM_TOKEN', 'ZEPTOCLAW_CHANNELS_TELEGRAM_BOT_TOKEN']);
  if (tgToken) (tg = tg || newTg()).token = tgToken.value;
  if (env.ZEPTOCLAW_CHANNELS_TELEGRAM_ENABLED !== undefined && parseBool(env.ZEPTOCLAW_CHANNELS_TELEGRAM_ENABLED) !== undefined) {
    (tg = tg || newTg()).enabled = parseBool(env.ZEPTOCLAW_CHANNELS_TELEGRAM_ENABLED);
  }

  if (typeErrors.length > 0) {
    for (const e of typeErrors) problems.push(`Failed to load configuration: ${configPath}: ${e}`);
    return verdict();
  }

  // ---- provider selection (registry.rs resolve_runtime_providers / resolve_credential)
  const selections = [];
  for (const spec of REGISTRY) {
    const p = providers[spec.name];
    if (!p) continue;
    const method = p.auth_method === 'oauth' ? 'oauth' : p.auth_method === 'auto' ? 'auto' : 'api_key';
    const key = p.api_key !== undefined && p.api_key !== '' ? p.api_key : undefined;
    let credential = method === 'oauth' ? undefined : key; // no OAuth token store in a slot
    if (credential === undefined && spec.keyRequired) continue;
    if (credential === undefined) credential = ''; // keyless fallback (vllm, ollama, vertex)
    selections.push({
      spec,
      key: credential,
      keyFrom: p.keyFrom,
      base: p.api_base ? p.api_base : spec.base,
      model: p.model,
    });
  }
  if (selections.length === 0) {
    problems.push(
      `No AI provider configured. Set ZEPTOCLAW_PROVIDERS_ANTHROPIC_API_KEY or add your API key to ${configPath} ` +
        '(env names the program reads: ZEPTOCLAW_PROVIDERS_<PROVIDER>_API_KEY; plain ANTHROPIC_API_KEY / OPENAI_API_KEY are ignored)',
    );
  } else {
    // ---- model/provider compatibility (validate.rs validate_model_provider_compat): exit 1 on error
    const available = selections.map((s) => s.spec.name);
    const inferred = inferProvider(model, available);
    const primary = selections.find((s) => s.spec.name === inferred) || selections[0];
    const errors = [];
    const msg = modelMismatch(model, primary.spec.name, primary.spec.backend);
    if (msg && primary.model === undefined) {
      errors.push(
        `[ERROR] agents.defaults.model: ${msg}. Fix: set 'agents.defaults.model' to a compatible model, or add 'providers.<name>.model' override`,
      );
    }
    for (const s of selections) {
      if (s.model === undefined) continue;
      const m = modelMismatch(s.model, s.spec.name, s.spec.backend);
      if (m) errors.push(`[ERROR] providers.${s.spec.name}.model: ${m}`);
    }
    if (errors.length > 0) problems.push(`ERROR: Model-provider mismatch detected. ${errors.join(' ')}`);

    // ---- what create_agent can build (kernel/provider.rs provider_from_runtime_selection)
    const usable = selections.filter((s) => !s.spec.unusable && s.base !== null);
    for (const s of selections.filter((x) => !usable.includes(x))) {
      if (s.spec.unusable) problems.push(`${s.spec.unusable}: provider '${s.spec.name}' is skipped`);
      else problems.push(`Missing api_base for OpenAI-compatible preset; skipping provider (set providers.${s.spec.name}.api_base in config)`);
    }
    if (usable.length > 0) {
      const served = usable.find((s) => s.spec.name === inferProvider(model, usable.map((x) => x.spec.name))) || usable[0];
      if (served.key === '') {
        problems.push(
          `provider '${served.spec.name}' has no API key (ZEPTOCLAW_PROVIDERS_${served.spec.name.toUpperCase()}_API_KEY / providers.${served.spec.name}.api_key): ` +
            'it starts keyless and every request goes out without one',
        );
      }
    }
  }

  // ---- Telegram (channels/factory.rs register_configured_channels)
  if (tg) {
    if (tg.enabled && tg.token === '') {
      problems.push(
        'Telegram channel enabled but token is empty (channels.telegram.token / ZEPTOCLAW_CHANNELS_TELEGRAM_BOT_TOKEN): the channel is not registered',
      );
    } else if (!tg.enabled && tg.token !== '') {
      problems.push(
        `a Telegram token is set (${tgToken ? tgToken.name : 'channels.telegram.token'}) but channels.telegram.enabled is false ` +
          '(ZEPTOCLAW_CHANNELS_TELEGRAM_ENABLED): "Telegram channel is disabled in configuration", the bot never starts',
      );
    }
  }

  return verdict();
};
