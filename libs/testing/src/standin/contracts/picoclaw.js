/* eslint-disable */
// PicoClaw's contract, read from sipeed/picoclaw at v0.2.9 (the release templates/agents/picoclaw pins).
// Plain CommonJS, no dependencies: it also runs inside the FROM-scratch stand-in image.
//
// What the real container does with its input:
// - docker/entrypoint.sh is the image's ENTRYPOINT. When neither ${HOME}/.picoclaw/config.json nor
//   ${HOME}/.picoclaw/workspace exists it runs `picoclaw onboard` and exits 0; otherwise it runs
//   `picoclaw gateway "$@"`: the container command (argv here) is a list of gateway flags.
// - cmd/picoclaw/internal/gateway/command.go: no positional arguments (cobra.NoArgs); flags -d/--debug,
//   -T/--no-truncate (only with --debug), -E/--allow-empty, --host <h>; -h/--help prints help and exits.
// - config path: $PICOCLAW_CONFIG, else ($PICOCLAW_HOME or $HOME/.picoclaw)/config.json
//   (cmd/picoclaw/internal/helpers.go:GetConfigPath, pkg/config/envkeys.go:GetHome).
// - pkg/config/config.go:LoadConfig: "version" 3 is read as is (0-2 are migrated and the file
//   rewritten, anything else refused); unknown fields are refused (pkg/config/diagnostics.go).
// - pkg/providers: agents.defaults.model_name must name a model_list entry; the entry's protocol is
//   its provider field, else the model's known prefix, else openai; the key is api_keys[0].
// - Telegram: channel_list.telegram.enabled (no env switch) and a token from
//   channel_list.telegram.settings.token or PICOCLAW_CHANNELS_TELEGRAM_TOKEN.
// - Listens on gateway.host / PICOCLAW_GATEWAY_HOST / --host, "localhost" by default.
'use strict';

const RELEASE = 'v0.2.9';
const CURRENT_VERSION = 3;

// Known provider names and aliases (pkg/providers/provider_metadata.go:modelProviderOptionsByName).
const ALIASES = {
  gpt: 'openai',
  claude: 'anthropic',
  google: 'gemini',
  qwen: 'qwen-portal',
  'qwen-international': 'qwen-intl',
  'dashscope-intl': 'qwen-intl',
  glm: 'zhipu',
  'azure-openai': 'azure',
  copilot: 'github-copilot',
  'google-antigravity': 'antigravity',
  claudecli: 'claude-cli',
  codexcli: 'codex-cli',
  g4f: 'gpt4free',
  'z.ai': 'zai',
  'z-ai': 'zai',
  'coding-plan': 'alibaba-coding',
  'qwen-coding': 'alibaba-coding',
  'coding-plan-anthropic': 'alibaba-coding-anthropic',
  'dashscope-us': 'qwen-us',
};
const CATALOG = new Set([
  'openai', 'anthropic', 'anthropic-messages', 'gemini', 'deepseek', 'openrouter', 'qwen-portal', 'qwen-intl',
  'moonshot', 'volcengine', 'zhipu', 'groq', 'mistral', 'nvidia', 'cerebras', 'azure', 'bedrock', 'github-copilot',
  'antigravity', 'claude-cli', 'codex-cli', 'ollama', 'vllm', 'lmstudio', 'gpt4free', 'elevenlabs', 'venice',
  'shengsuanyun', 'siliconflow', 'vivgrid', 'minimax', 'longcat', 'modelscope', 'mimo', 'avian', 'zai',
  'alibaba-coding', 'alibaba-coding-anthropic', 'novita', 'litellm', 'qwen-us',
]);
// Protocols CreateProviderFromConfig has a case for (pkg/providers/factory_provider.go).
const PROTOCOLS = new Set([
  'openai', 'azure', 'bedrock', 'litellm', 'lmstudio', 'gpt4free', 'openrouter', 'groq', 'zhipu', 'nvidia', 'venice',
  'ollama', 'moonshot', 'shengsuanyun', 'siliconflow', 'deepseek', 'cerebras', 'vivgrid', 'volcengine', 'vllm',
  'qwen-portal', 'qwen-intl', 'qwen-us', 'mistral', 'avian', 'longcat', 'modelscope', 'novita', 'alibaba-coding',
  'zai', 'mimo', 'gemini', 'minimax', 'anthropic', 'anthropic-messages', 'alibaba-coding-anthropic', 'antigravity',
  'claude-cli', 'codex-cli', 'github-copilot',
]);
// Protocols that sign in through `picoclaw auth login` or a local CLI instead of a key: unusable
// in a hosted slot (nobody has a shell).
const KEYLESS = new Set(['bedrock', 'antigravity', 'claude-cli', 'codex-cli', 'github-copilot']);

// JSON field names at v0.2.9 (pkg/config/config.go), for the unknown-field check.
const TOP_KEYS = [
  'version', 'isolation', 'agents', 'session', 'evolution', 'channel_list', 'model_list', 'gateway', 'events',
  'hooks', 'tools', 'heartbeat', 'devices', 'voice', 'build_info',
];
const AGENTS_KEYS = ['defaults', 'list', 'dispatch'];
const DEFAULTS_KEYS = [
  'workspace', 'restrict_to_workspace', 'allow_read_outside_workspace', 'provider', 'model_name', 'model_fallbacks',
  'image_model', 'image_model_fallbacks', 'max_tokens', 'context_window', 'temperature', 'max_tool_iterations',
  'summarize_message_threshold', 'summarize_token_percent', 'max_media_size', 'routing', 'steering_mode',
  'max_parallel_turns', 'subturn', 'tool_feedback', 'split_on_marker', 'context_manager', 'context_manager_config',
  'turn_profile', 'max_llm_retries', 'llm_retry_backoff_secs',
];
const MODEL_KEYS = [
  'model_name', 'provider', 'model', 'api_base', 'proxy', 'fallbacks', 'auth_method', 'connect_mode', 'workspace',
  'rpm', 'max_tokens_field', 'request_timeout', 'thinking_level', 'tool_schema_transform', 'streaming', 'extra_body',
  'custom_headers', 'api_keys', 'enabled', 'user_agent',
];
const GATEWAY_KEYS = ['host', 'port', 'hot_reload', 'log_level'];
const CHANNEL_KEYS = ['enabled', 'type', 'allow_from', 'reasoning_channel_id', 'group_trigger', 'typing', 'placeholder', 'settings'];

const isMap = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v) => typeof v === 'string' && v.trim() !== '';

function joinPath(dir, file) {
  return dir.replace(/\/+$/, '') + '/' + file;
}

function normalizeProvider(p) {
  const n = String(p || '').trim().toLowerCase();
  return ALIASES[n] || n;
}

// pkg/providers/factory_provider.go:ExtractProtocol + provider_catalog.go:SplitModelProviderAndID.
function protocolOf(entry) {
  const model = String(entry.model || '').trim();
  if (nonEmpty(entry.provider)) return { protocol: normalizeProvider(entry.provider), modelId: model };
  const slash = model.indexOf('/');
  if (slash >= 0) {
    const prefix = normalizeProvider(model.slice(0, slash));
    if (CATALOG.has(prefix)) return { protocol: prefix, modelId: model.slice(slash + 1).trim() };
  }
  return { protocol: 'openai', modelId: model };
}

// Where the gateway listens: any address -> '0.0.0.0' for the stand-in, anything else -> loopback.
function listenHost(raw) {
  const tokens = String(raw).split(',').map((t) => t.trim().replace(/^\[|\]$/g, '')).filter(Boolean);
  if (tokens.length === 0) return '127.0.0.1';
  return tokens.some((t) => t === '0.0.0.0' || t === '::' || t === '*') ? '0.0.0.0' : '127.0.0.1';
}

// `picoclaw gateway <argv>` (docker/entrypoint.sh prepends `picoclaw gateway`).
function parseGatewayFlags(argv, problems) {
  const flags = { debug: false, noTruncate: false, allowEmpty: false, host: undefined };
  const setBool = (name, raw) => {
    if (raw === undefined || raw === 'true' || raw === '1') flags[name] = true;
    else if (raw === 'false' || raw === '0') flags[name] = false;
    else problems.push(`picoclaw gateway: invalid argument "${raw}" for a boolean flag`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = String(argv[i]);
    if (a === '-h' || a === '--help') {
      problems.push(
        `picoclaw gateway ${a} prints the help and exits: the command must hold gateway flags only (the image's /entrypoint.sh already runs \`picoclaw gateway "$@"\`)`,
      );
      continue;
    }
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (long) {
      const [, name, value] = long;
      if (name === 'debug') setBool('debug', value);
      else if (name === 'no-truncate') setBool('noTruncate', value);
      else if (name === 'allow-empty') setBool('allowEmpty', value);
      else if (name === 'host') {
        const v = value !== undefined ? value : argv[++i];
        if (v === undefined) problems.push('picoclaw gateway: flag needs an argument: --host');
        else flags.host = String(v);
      } else problems.push(`picoclaw gateway: unknown flag: --${name}`);
      continue;
    }
    if (/^-[A-Za-z]+$/.test(a)) {
      for (const c of a.slice(1)) {
        if (c === 'd') flags.debug = true;
        else if (c === 'T') flags.noTruncate = true;
        else if (c === 'E') flags.allowEmpty = true;
        else problems.push(`picoclaw gateway: unknown shorthand flag: '${c}' in ${a}`);
      }
      continue;
    }
    problems.push(
      `picoclaw gateway: unknown command "${a}" for "picoclaw gateway" (it takes no arguments; the image's /entrypoint.sh already runs \`picoclaw gateway "$@"\`, so the container command holds gateway flags only)`,
    );
  }
  if (flags.noTruncate && !flags.debug) {
    problems.push('picoclaw gateway: the --no-truncate option can only be used in conjunction with --debug (-d)');
  }
  return flags;
}

function unknownFields(cfg) {
  const out = [];
  const check = (obj, allowed, path) => {
    if (!isMap(obj)) return;
    for (const k of Object.keys(obj)) if (!allowed.includes(k)) out.push(path ? `${path}.${k}` : k);
  };
  check(cfg, TOP_KEYS, '');
  check(cfg.agents, AGENTS_KEYS, 'agents');
  if (isMap(cfg.agents)) check(cfg.agents.defaults, DEFAULTS_KEYS, 'agents.defaults');
  if (Array.isArray(cfg.model_list)) cfg.model_list.forEach((m, i) => check(m, MODEL_KEYS, `model_list[${i}]`));
  check(cfg.gateway, GATEWAY_KEYS, 'gateway');
  if (isMap(cfg.channel_list)) for (const [name, ch] of Object.entries(cfg.channel_list)) check(ch, CHANNEL_KEYS, `channel_list.${name}`);
  return out.sort();
}

// SecureStrings: a JSON list of strings, empty ones dropped.
function apiKeysOf(entry, i, problems) {
  const v = entry.api_keys;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((k) => k !== null && typeof k !== 'string')) {
    problems.push(`config.json type error for field "model_list[${i}].api_keys": expected a list of strings`);
    return [];
  }
  return v.filter((k) => typeof k === 'string' && k !== '' && k !== '[NOT_HERE]');
}

module.exports = function picoclawContract({ env, argv, readConfig, home }) {
  const problems = [];
  env = env || {};
  argv = argv || [];
  const flags = parseGatewayFlags(argv, problems);

  // docker/entrypoint.sh: first run onboards and exits.
  const shellHome = nonEmpty(env.HOME) ? env.HOME : home || '/';
  const entryConfig = joinPath(shellHome, '.picoclaw/config.json');
  if (readConfig(entryConfig) === undefined) {
    problems.push(
      `docker/entrypoint.sh: neither ${joinPath(shellHome, '.picoclaw/workspace')} nor ${entryConfig} exists: the first run runs \`picoclaw onboard\`, prints "First-run setup complete." and exits (HOME must be the parent of the data dir's .picoclaw, with config.json in it)`,
    );
  }

  // Where the gateway reads its config (GetConfigPath / GetHome).
  const picoHome = nonEmpty(env.PICOCLAW_HOME) ? env.PICOCLAW_HOME : joinPath(shellHome, '.picoclaw');
  const configPath = nonEmpty(env.PICOCLAW_CONFIG) ? env.PICOCLAW_CONFIG : joinPath(picoHome, 'config.json');
  if (!configPath.startsWith('/')) problems.push(`config path ${configPath} is relative: PICOCLAW_HOME/PICOCLAW_CONFIG must be absolute`);
  let cfg = readConfig(configPath);

  // Gateway host and port: --host > PICOCLAW_GATEWAY_HOST > gateway.host > "localhost".
  const fileGateway = isMap(cfg) && isMap(cfg.gateway) ? cfg.gateway : {};
  let host = 'localhost';
  if (nonEmpty(fileGateway.host)) host = fileGateway.host.trim();
  if (nonEmpty(env.PICOCLAW_GATEWAY_HOST)) host = env.PICOCLAW_GATEWAY_HOST.trim();
  if (flags.host !== undefined && flags.host.trim() !== '') host = flags.host.trim();
  let port = fileGateway.port === undefined ? 18790 : fileGateway.port;
  if (env.PICOCLAW_GATEWAY_PORT !== undefined && env.PICOCLAW_GATEWAY_PORT !== '') {
    if (!/^-?\d+$/.test(env.PICOCLAW_GATEWAY_PORT.trim())) {
      problems.push(`env: parse error on field "Port" of type "int": PICOCLAW_GATEWAY_PORT=${JSON.stringify(env.PICOCLAW_GATEWAY_PORT)}`);
    } else port = Number(env.PICOCLAW_GATEWAY_PORT.trim());
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    problems.push(`config pre-check failed: invalid gateway port: ${port}, port must be between 1 and 65535`);
  }

  if (cfg === undefined) {
    problems.push(
      `config file not found at ${configPath}, using default config: error creating provider: model "" not found in model_list (write config.json into the data dir, or set PICOCLAW_HOME/PICOCLAW_CONFIG to where it is)`,
    );
    return { problems, host: listenHost(host) };
  }
  if (!isMap(cfg) || cfg.__unparsable !== undefined) {
    problems.push(`Malformed config file ${configPath}: config.json syntax error: ${isMap(cfg) ? cfg.__unparsable : 'not a JSON object'}`);
    return { problems, host: listenHost(host) };
  }

  const version = cfg.version === undefined ? 0 : cfg.version;
  if (version !== CURRENT_VERSION) {
    problems.push(
      [0, 1, 2].includes(version)
        ? `config.json has "version": ${version}: PicoClaw ${RELEASE} migrates it to version ${CURRENT_VERSION} and rewrites the file (keys moved to .security.yml): write "version": ${CURRENT_VERSION} in the format it reads`
        : `unsupported config version: ${JSON.stringify(cfg.version)}`,
    );
    return { problems, host: listenHost(host) };
  }

  const unknown = unknownFields(cfg);
  if (unknown.length > 0) {
    problems.push(`Failed to load config: config.json contains unknown field(s): ${unknown.join(', ')}`);
  }

  // model_list: each entry is validated (ModelConfig.Validate).
  const list = cfg.model_list === undefined || cfg.model_list === null ? [] : cfg.model_list;
  if (!Array.isArray(list)) {
    problems.push('config.json type error for field "model_list": expected a list of models');
  } else {
    list.forEach((m, i) => {
      if (!isMap(m)) return problems.push(`model_list[${i}]: expected an object`);
      if (!nonEmpty(m.model_name)) problems.push(`model_list[${i}]: model_name is required`);
      if (!nonEmpty(m.model)) problems.push(`model_list[${i}]: model is required`);
      else if (/[ \t\n\r]/.test(m.model)) problems.push(`model_list[${i}]: model identifier contains whitespace`);
      else if (m.model.startsWith('/')) problems.push(`model_list[${i}]: model identifier must not start with /`);
      else if (m.model.includes('//')) problems.push(`model_list[${i}]: model identifier must not contain //`);
    });
  }

  // The default model (agents.defaults.model_name) must name a model_list entry with a usable key.
  const defaults = isMap(cfg.agents) && isMap(cfg.agents.defaults) ? cfg.agents.defaults : {};
  const modelName = typeof defaults.model_name === 'string' ? defaults.model_name : '';
  const models = Array.isArray(list) ? list.filter(isMap) : [];
  if (modelName === '') {
    problems.push(
      flags.allowEmpty
        ? 'no default model configured (agents.defaults.model_name is empty): with --allow-empty the gateway starts in limited mode and answers nothing'
        : 'error creating provider: model "" not found in model_list: agents.defaults.model_name is empty',
    );
  } else if (models.length === 0) {
    problems.push('error creating provider: no providers configured. Please add entries to model_list in your config');
  } else {
    const matches = models.map((m, i) => ({ m, i })).filter(({ m }) => m.model_name === modelName);
    if (matches.length === 0) {
      problems.push(
        `error creating provider: model "${modelName}" not found in model_list (agents.defaults.model_name must be one of: ${models.map((m) => JSON.stringify(m.model_name)).join(', ')})`,
      );
    }
    for (const { m, i } of matches) {
      if (!nonEmpty(m.model)) continue;
      const { protocol } = protocolOf(m);
      const keys = apiKeysOf(m, i, problems);
      const auth = String(m.auth_method || '').trim().toLowerCase();
      if (!PROTOCOLS.has(protocol)) {
        problems.push(`error creating provider: failed to create provider for model "${modelName}": unknown protocol "${protocol}" in model "${m.model}"`);
      } else if (KEYLESS.has(protocol) || ((protocol === 'openai' || protocol === 'anthropic') && (auth === 'oauth' || auth === 'token'))) {
        problems.push(
          `model_list[${i}] (model_name "${modelName}"): protocol "${protocol}"${auth ? ` with auth_method ${auth}` : ''} signs in through \`picoclaw auth login\` or a local CLI, not an API key: a hosted slot cannot use it`,
        );
      } else if (keys.length === 0) {
        problems.push(
          protocol === 'anthropic' || protocol === 'anthropic-messages' || protocol === 'azure' || protocol === 'alibaba-coding-anthropic'
            ? `error creating provider: failed to create provider for model "${modelName}": api_key is required for ${protocol} protocol (model: ${m.model}) (model_list[${i}].api_keys is empty)`
            : `model_list[${i}] (model_name "${modelName}"): api_keys is empty: PicoClaw ${RELEASE} reads the key from model_list[].api_keys only (no env variable); every request to the ${protocol} protocol${nonEmpty(m.api_base) ? ` at ${m.api_base}` : ''} would go without a key`,
        );
      }
    }
  }

  // Telegram: enabled in channel_list, token from settings.token or PICOCLAW_CHANNELS_TELEGRAM_TOKEN.
  const channels = isMap(cfg.channel_list) ? cfg.channel_list : {};
  const envToken = nonEmpty(env.PICOCLAW_CHANNELS_TELEGRAM_TOKEN) ? env.PICOCLAW_CHANNELS_TELEGRAM_TOKEN : '';
  let telegramEnabled = false;
  for (const [name, ch] of Object.entries(channels)) {
    if (!isMap(ch)) continue;
    const type = nonEmpty(ch.type) ? ch.type : name;
    if (type !== 'telegram') continue;
    if (ch.enabled !== true) continue;
    telegramEnabled = true;
    const settings = isMap(ch.settings) ? ch.settings : {};
    const token = envToken || (nonEmpty(settings.token) ? settings.token : '');
    if (token === '') {
      problems.push(
        `channel_list.${name} is enabled but has no token (channel_list.${name}.settings.token or PICOCLAW_CHANNELS_TELEGRAM_TOKEN): PicoClaw skips the channel and the bot never answers`,
      );
    }
  }
  if (envToken && !telegramEnabled) {
    problems.push(
      'PICOCLAW_CHANNELS_TELEGRAM_TOKEN is set but channel_list.telegram.enabled is not true in config.json: PicoClaw has no env switch for it, the Telegram channel stays off',
    );
  }

  return { problems, host: listenHost(host) };
};
