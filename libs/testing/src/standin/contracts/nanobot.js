/* eslint-disable */
// Nanobot's contract, read from HKUDS/nanobot at tag v0.3.0 (nanobot-ai 0.3.0): what `nanobot
// gateway` reads at start (argv, env, config file) and what it refuses. Plain CommonJS, no
// dependencies: it runs inside the stand-in image and in libs/testing/src/agent-contract.ts.
//
// Sources (paths in the upstream repository):
// - nanobot/cli/gateway.py (create_gateway_app.gateway): the `gateway` command and its options;
// - nanobot/cli/commands.py (_load_runtime_config, _run_gateway): config loading, provider check,
//   the health server on gateway.host:port;
// - nanobot/config/loader.py (get_config_path, load_config, resolve_config_env_vars): the config
//   file is ~/.nanobot/config.json (Path.home(), i.e. HOME) or --config; ${VAR} placeholders;
// - nanobot/config/schema.py (Config, ProviderConfig, GatewayConfig, ApiConfig, AgentDefaults):
//   camelCase aliases that also accept snake_case; pydantic-settings env_prefix NANOBOT_ with
//   env_nested_delimiter __, the file taking precedence over the environment;
// - nanobot/providers/registry.py (PROVIDERS) and factory.py (_make_provider_core);
// - nanobot/channels/telegram/runtime.py (TelegramConfig, TelegramChannel.start).
'use strict';

// nanobot/providers/registry.py PROVIDERS at v0.3.0, in registry order (order decides matching):
// [name, keywords, backend, flags (g gateway, l local, o oauth, d direct, t transcription only),
//  has a default api base].
const REGISTRY = [
  ['custom', [], 'openai_compat', 'd', false],
  ['azure_openai', ['azure', 'azure-openai'], 'azure_openai', 'd', false],
  ['bedrock', ['bedrock', 'anthropic.claude', 'amazon.nova', 'meta.', 'mistral.', 'cohere.', 'qwen.', 'deepseek.', 'openai.gpt-oss', 'ai21.', 'moonshot.', 'writer.', 'zai.'], 'bedrock', 'd', false],
  ['openrouter', ['openrouter'], 'openai_compat', 'g', true],
  ['opencode', ['opencode/', 'opencode', 'opencode-zen', 'opencode_zen'], 'openai_compat', 'g', true],
  ['opencode_zen', ['opencode/', 'opencode_zen', 'opencode-zen'], 'openai_compat', 'g', true],
  ['opencode_go', ['opencode-go', 'opencode_go'], 'openai_compat', 'g', true],
  ['huggingface', ['huggingface', 'hugging-face'], 'openai_compat', 'g', true],
  ['skywork', ['skywork', 'skyclaw', 'apifree'], 'openai_compat', 'g', true],
  ['aihubmix', ['aihubmix'], 'openai_compat', 'g', true],
  ['siliconflow', ['siliconflow'], 'openai_compat', 'g', true],
  ['novita', ['novita'], 'openai_compat', 'g', true],
  ['volcengine', ['volcengine', 'volces', 'ark'], 'openai_compat', 'g', true],
  ['volcengine_coding_plan', ['volcengine-plan'], 'openai_compat', 'g', true],
  ['byteplus', ['byteplus'], 'openai_compat', 'g', true],
  ['byteplus_coding_plan', ['byteplus-plan'], 'openai_compat', 'g', true],
  ['anthropic', ['anthropic', 'claude'], 'anthropic', '', false],
  ['openai', ['openai', 'gpt'], 'openai_compat', '', false],
  ['openai_codex', ['openai-codex'], 'openai_codex', 'o', true],
  ['xai_grok', ['xai-grok', 'xai_grok'], 'xai_grok', 'o', true],
  ['github_copilot', ['github_copilot', 'copilot'], 'github_copilot', 'o', true],
  ['deepseek', ['deepseek'], 'openai_compat', '', true],
  ['gemini', ['gemini', 'gemma'], 'openai_compat', '', true],
  ['zhipu', ['zhipu', 'glm', 'zai'], 'openai_compat', '', true],
  ['dashscope', ['qwen', 'dashscope'], 'openai_compat', '', true],
  ['modelscope', ['modelscope'], 'openai_compat', 'g', true],
  ['moonshot', ['moonshot', 'kimi'], 'openai_compat', '', true],
  ['kimi_coding', ['kimi-coding', 'kimi_coding', 'kimi-for-coding'], 'anthropic', '', true],
  ['minimax', ['minimax'], 'openai_compat', '', true],
  ['minimax_anthropic', ['minimax_anthropic'], 'anthropic', '', true],
  ['mistral', ['mistral', 'magistral', 'ministral', 'codestral', 'devstral'], 'openai_compat', '', true],
  ['stepfun', ['stepfun', 'step'], 'openai_compat', '', true],
  ['xiaomi_mimo', ['xiaomi_mimo', 'mimo'], 'openai_compat', '', true],
  ['longcat', ['longcat'], 'openai_compat', '', true],
  ['ant_ling', ['ant_ling', 'ant-ling', 'ling-', 'ring-'], 'openai_compat', '', true],
  ['vllm', ['vllm'], 'openai_compat', 'l', false],
  ['ollama', ['ollama', 'nemotron'], 'openai_compat', 'l', true],
  ['lm_studio', ['lm-studio', 'lmstudio', 'lm_studio'], 'openai_compat', 'l', true],
  ['atomic_chat', ['atomic-chat', 'atomic_chat', 'atomicchat'], 'openai_compat', 'l', true],
  ['ovms', ['openvino', 'ovms'], 'openai_compat', 'ld', true],
  ['nvidia', ['nvidia', 'nemotron', 'nvapi'], 'openai_compat', '', true],
  ['groq', ['groq'], 'openai_compat', '', true],
  ['assemblyai', ['assemblyai'], 'openai_compat', 't', true],
  ['qianfan', ['qianfan', 'ernie'], 'openai_compat', '', true],
].map(([name, keywords, backend, flags, hasDefaultBase]) => ({
  name,
  keywords,
  backend,
  gateway: flags.includes('g'),
  local: flags.includes('l'),
  oauth: flags.includes('o'),
  direct: flags.includes('d'),
  transcriptionOnly: flags.includes('t'),
  hasDefaultBase,
}));

// The top-level fields of nanobot's Config (the only names the NANOBOT_ env source looks up).
const CONFIG_FIELDS = ['agents', 'channels', 'transcription', 'providers', 'api', 'gateway', 'tools', 'model_presets'];
const GATEWAY_SUBCOMMANDS = ['status', 'logs', 'stop', 'restart', 'install-service', 'uninstall-service'];

const isMap = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
// pydantic's to_snake / to_camel, enough for nanobot's field names.
const toSnake = (s) => s.replace(/-/g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const toCamel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
// A field of a camelCase-aliased pydantic model: the alias wins over the snake_case name.
function field(obj, snake) {
  if (!isMap(obj)) return undefined;
  const camel = toCamel(snake);
  if (obj[camel] !== undefined) return obj[camel];
  return obj[snake];
}
// Python truthiness (ChannelActivation uses bool(raw_enabled)).
function pyTruthy(v) {
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}
// pydantic-settings' deep_update: `over` wins leaf by leaf, mappings merge.
function deepUpdate(base, over) {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(out[k]) && isMap(v) ? deepUpdate(out[k], v) : v;
  return out;
}
function findByName(name) {
  const normalized = toSnake(String(name).replace(/-/g, '_'));
  return REGISTRY.find((s) => s.name === normalized);
}
function posixResolve(base, p) {
  const parts = [];
  for (const seg of (p.startsWith('/') ? p : `${base}/${p}`).split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

/** `nanobot gateway` as typer parses it; returns { config, port, problems }. */
function parseArgv(argv, home) {
  const problems = [];
  const out = { config: undefined, port: undefined, problems };
  if (argv.length === 0 || argv[0] !== 'gateway') {
    problems.push(
      `the command must start the long-running gateway: \`nanobot gateway\` (command ["gateway"]), got ${JSON.stringify(argv)}` +
        (argv.length === 0 ? ' (the image default `status` prints the status and exits)' : ''),
    );
    return out;
  }
  let background = false;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (flag === '--port' || flag === '-p') {
      const v = value();
      if (v === undefined || !/^-?\d+$/.test(v)) problems.push(`Invalid value for '--port' / '-p': '${v ?? ''}' is not a valid integer.`);
      else out.port = Number(v);
    } else if (flag === '--config' || flag === '-c') {
      const v = value();
      if (v === undefined) problems.push("Option '--config' requires an argument.");
      else out.config = v;
    } else if (flag === '--workspace' || flag === '-w') {
      if (value() === undefined) problems.push("Option '--workspace' requires an argument.");
    } else if (flag === '--verbose' || flag === '-v' || flag === '--foreground') {
      // no effect on what is read
    } else if (flag === '--background') {
      background = true;
    } else if (flag === '--help') {
      problems.push('`nanobot gateway --help` prints the usage and exits: it does not start the gateway');
    } else if (i === 1 && GATEWAY_SUBCOMMANDS.includes(a)) {
      problems.push(`\`nanobot gateway ${a}\` manages a background gateway and exits: the command must be \`gateway\` alone (foreground)`);
      return out;
    } else if (a.startsWith('-')) {
      problems.push(`No such option: ${flag}`);
    } else {
      problems.push(`Got unexpected extra argument (${a})`);
    }
  }
  if (background) problems.push('`nanobot gateway --background` forks the gateway and exits: the container would stop');
  if (out.config !== undefined) {
    const expanded = out.config === '~' ? home : out.config.startsWith('~/') ? `${home}/${out.config.slice(2)}` : out.config;
    out.config = posixResolve('/', expanded);
  }
  return out;
}

/** pydantic-settings' env source for Config: NANOBOT_<FIELD>[__<key>...], case-insensitive. */
function envSource(env) {
  const out = {};
  for (const [rawName, value] of Object.entries(env)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('nanobot_')) continue;
    const rest = name.slice('nanobot_'.length);
    const fieldName = CONFIG_FIELDS.find((f) => rest === f || rest.startsWith(`${f}__`));
    if (!fieldName) continue;
    if (rest === fieldName) {
      // A whole complex field as JSON.
      try {
        const parsed = JSON.parse(value);
        if (isMap(parsed)) out[fieldName] = isMap(out[fieldName]) ? deepUpdate(out[fieldName], parsed) : parsed;
      } catch (e) {
        /* pydantic would refuse it; nanobot's own errors below are what matters */
      }
      continue;
    }
    const keys = rest.slice(fieldName.length + 2).split('__');
    if (keys.some((k) => k === '')) continue;
    let cur = (out[fieldName] = isMap(out[fieldName]) ? out[fieldName] : {});
    keys.forEach((k, i) => {
      if (i === keys.length - 1) cur[k] = value;
      else cur = cur[k] = isMap(cur[k]) ? cur[k] : {};
    });
  }
  return out;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** resolve_config_env_vars: every ${VAR} in every string; an unset one stops the start. */
function resolveRefs(value, env, missing) {
  if (typeof value === 'string')
    return value.replace(ENV_REF, (m, name) => {
      if (env[name] === undefined) {
        missing.add(name);
        return m;
      }
      return env[name];
    });
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, env, missing));
  if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, env, missing)]));
  return value;
}

/** Config._match_provider: (provider config, registry name) for the resolved model/provider. */
function matchProvider(providers, model, forced) {
  const byName = (spec) => {
    const p = field(providers, spec.name);
    return isMap(p) ? p : p === undefined ? {} : undefined;
  };
  const builtinKeys = new Set(REGISTRY.flatMap((s) => [s.name, toCamel(s.name)]));
  const customs = Object.entries(isMap(providers) ? providers : {}).filter(([k, v]) => !builtinKeys.has(k) && isMap(v));
  const customByName = (name) => {
    const n = String(name).replace(/-/g, '_').toLowerCase();
    const hit = customs.find(([k]) => k.replace(/-/g, '_').toLowerCase() === n);
    return hit ? { p: hit[1], name: hit[0] } : undefined;
  };
  const hasKey = (p) => typeof field(p, 'api_key') === 'string' && field(p, 'api_key') !== '';

  if (forced !== 'auto') {
    const spec = findByName(forced);
    if (spec) {
      const p = byName(spec);
      return p ? { p, name: spec.name } : { p: undefined, name: undefined };
    }
    return customByName(forced) ?? { p: undefined, name: undefined };
  }
  const lower = String(model).toLowerCase();
  const normalized = lower.replace(/-/g, '_');
  const prefix = lower.includes('/') ? lower.split('/', 1)[0] : '';
  const normalizedPrefix = prefix.replace(/-/g, '_');
  const kwMatches = (kw) => lower.includes(kw.toLowerCase()) || normalized.includes(kw.toLowerCase().replace(/-/g, '_'));
  for (const spec of REGISTRY) {
    if (spec.transcriptionOnly) continue;
    const p = byName(spec);
    if (p && prefix && normalizedPrefix === spec.name && (spec.oauth || spec.local || spec.direct || hasKey(p))) return { p, name: spec.name };
  }
  if (prefix) {
    const c = customByName(normalizedPrefix);
    if (c) return c;
  }
  for (const spec of REGISTRY) {
    if (spec.transcriptionOnly) continue;
    const p = byName(spec);
    if (p && spec.keywords.some(kwMatches) && (spec.oauth || spec.local || spec.direct || hasKey(p))) return { p, name: spec.name };
  }
  for (const spec of REGISTRY) {
    if (!spec.local) continue;
    const p = byName(spec);
    if (p && field(p, 'api_base')) return { p, name: spec.name };
  }
  for (const spec of REGISTRY) {
    if (spec.oauth || spec.transcriptionOnly) continue;
    const p = byName(spec);
    if (p && hasKey(p)) return { p, name: spec.name };
  }
  const withBase = customs.find(([, v]) => field(v, 'api_base'));
  return withBase ? { p: withBase[1], name: withBase[0] } : { p: undefined, name: undefined };
}

module.exports = function nanobotContract({ env, argv, readConfig, home }) {
  const problems = [];
  let host = '127.0.0.1';
  const cli = parseArgv(argv || [], home);
  problems.push(...cli.problems);

  // Where the config is read: --config (must exist), else Path.home()/.nanobot/config.json.
  const configPath = cli.config ?? posixResolve('/', `${home || '/'}/.nanobot/config.json`);
  const raw = readConfig(configPath);
  let file = {};
  let noFile = false;
  if (raw === undefined) {
    if (cli.config !== undefined) {
      problems.push(`Error: Config file not found: ${configPath}`);
      return { problems, host };
    }
    // No file: nanobot starts from its defaults (and the environment).
    noFile = true;
  } else if (isMap(raw) && raw.__unparsable !== undefined) {
    problems.push(`Error: Failed to load config from ${configPath}: ${raw.__unparsable}`);
    return { problems, host };
  } else if (!isMap(raw)) {
    problems.push(`Error: Failed to load config from ${configPath}: the top level must be a JSON object`);
    return { problems, host };
  } else {
    file = raw;
  }

  // pydantic-settings: init values (the file) override NANOBOT_* env values leaf by leaf.
  const merged = deepUpdate(envSource(env), file);
  const missing = new Set();
  const config = resolveRefs(merged, env, missing);
  for (const name of missing) problems.push(`Error: Environment variable '${name}' referenced in config is not set (${configPath})`);

  // Validation that stops load_config. Config is a pydantic-settings BaseSettings: extra='forbid'.
  for (const k of Object.keys(file)) {
    if (!CONFIG_FIELDS.includes(k) && k !== 'modelPresets')
      problems.push(`Error: Failed to load config from ${configPath}: ${k}: Extra inputs are not permitted`);
  }
  const api = field(config, 'api');
  const apiHost = field(api, 'host') ?? '127.0.0.1';
  if ((apiHost === '0.0.0.0' || apiHost === '::') && !String(field(api, 'api_key') ?? '').trim())
    problems.push('Error: Failed to load config: api: host is 0.0.0.0 (all interfaces) but api_key is not set - set api.api_key to prevent unauthenticated access');
  const providers = field(config, 'providers') ?? {};
  if (!isMap(providers)) problems.push('Error: Failed to load config: providers must be an object');

  // The model and provider in use: agents.defaults (or its model preset).
  const defaults = field(field(config, 'agents'), 'defaults') ?? {};
  const presets = config.modelPresets ?? config.model_presets ?? {};
  const presetName = field(defaults, 'model_preset');
  let model = field(defaults, 'model') ?? 'anthropic/claude-opus-4-5';
  let forced = field(defaults, 'provider') ?? 'auto';
  if (presetName && presetName !== 'default') {
    const preset = isMap(presets) ? presets[presetName] : undefined;
    if (!isMap(preset)) {
      problems.push(`Error: Failed to load config: model_preset '${presetName}' not found in model_presets`);
      return { problems, host: gatewayHost(config) };
    }
    model = preset.model;
    forced = preset.provider ?? 'auto';
  }

  // providers/factory.py _make_provider_core: what stops `nanobot gateway` (exit 1).
  if (missing.size === 0 && isMap(providers)) {
    const { p, name } = matchProvider(providers, model, forced);
    const spec = name ? findByName(name) : undefined;
    const key = p ? field(p, 'api_key') : undefined;
    const apiBase = p ? field(p, 'api_base') : undefined;
    const keyPlace = name
      ? `providers.${spec ? toCamel(spec.name) : name}.apiKey` + (spec ? ` (or NANOBOT_PROVIDERS__${spec.name.toUpperCase()}__API_KEY)` : '')
      : 'providers.<name>.apiKey';
    if (name && !spec && p && !apiBase) {
      problems.push(`Error: Provider '${name}' requires api_base in config.`);
    } else if (spec && spec.transcriptionOnly) {
      problems.push(`Error: Provider '${name}' only supports transcription.`);
    } else if (spec && spec.backend === 'openai_compat' && spec.direct && !spec.hasDefaultBase && !apiBase) {
      problems.push(`Error: Provider '${name}' requires api_base in config (providers.${toCamel(name)}.apiBase is not set).`);
    } else if ((!spec || spec.backend === 'openai_compat') && !String(model).startsWith('bedrock/')) {
      const exempt = spec && (spec.oauth || spec.local || spec.direct);
      if (!key && !exempt) problems.push(`Error: No API key configured for provider '${name ?? 'None'}'. (${keyPlace} is empty or missing)`);
    }
    // Not refused at start, but every request would go out without the customer's key.
    if (spec && !key) {
      if (spec.backend === 'anthropic' && spec.name === 'anthropic') {
        if (!env.ANTHROPIC_API_KEY)
          problems.push(`No API key for provider 'anthropic': ${keyPlace} is empty and ANTHROPIC_API_KEY is not set (the Anthropic client would refuse every request)`);
      } else if (spec.direct && spec.backend === 'openai_compat') {
        problems.push(`No API key for provider '${name}': ${keyPlace} is empty (nanobot would call ${apiBase ?? 'the endpoint'} without the customer's key)`);
      }
    }
  }

  // Telegram (channels.telegram, an extra section parsed by TelegramConfig).
  const telegram = field(field(config, 'channels'), 'telegram');
  if (isMap(telegram) && pyTruthy(telegram.enabled)) {
    const token = field(telegram, 'token');
    if (typeof token !== 'string' || token === '')
      problems.push('telegram: bot token not configured (channels.telegram.token is empty; the Telegram channel never starts)');
    const allow = field(telegram, 'allow_from');
    if (allow !== undefined && allow !== null) {
      if (!Array.isArray(allow)) problems.push('telegram channel not available: channels.telegram.allowFrom: Input should be a valid list');
      else
        allow.forEach((v, i) => {
          if (typeof v !== 'string') problems.push(`telegram channel not available: channels.telegram.allowFrom.${i}: Input should be a valid string`);
        });
    }
  }

  if (noFile && problems.length > 0)
    problems.push(`(no config file at ${configPath}, from HOME=${home}: nanobot started from its built-in defaults)`);
  host = gatewayHost(config);
  return { problems, host };
};

/** GatewayConfig.host (default 127.0.0.1): where the gateway and its /health listen. */
function gatewayHost(config) {
  const h = field(field(config, 'gateway'), 'host');
  return typeof h === 'string' && h !== '' ? h : '127.0.0.1';
}
