/* eslint-disable */
// Myrai's start contract, as read from its source at release v0.1.0 (gmsas95/goclawde-cli, Go module
// github.com/gmsas95/myrai-cli): what /app/myrai reads and refuses before its API listens.
// Plain CommonJS, no dependencies: it runs inside the FROM-scratch stand-in image too.
//   argv   the container's command: the arguments of the image's ENTRYPOINT ["/app/myrai"]
//   env    the container's environment
//   readConfig(absPath)  parsed JSON (JSON is YAML: Berth writes myrai.yaml as JSON), undefined
//          when missing, { __unparsable } when not JSON
'use strict';
const path = require('path').posix;

// Dockerfile: WORKDIR /app, VOLUME ["/app/data"], CMD ["server", "--data", "/app/data"]
const CWD = '/app';
const VOLUME = '/app/data';
const IMAGE_CMD = ['server', '--data', '/app/data'];

// cmd/myrai/main.go: the first argument that selects a command instead of the server.
const SUBCOMMANDS = new Set([
  'onboard',
  'project',
  'persona',
  'user',
  'batch',
  'config',
  'skills',
  'channels',
  'gateway',
  'status',
  'doctor',
  'help',
  '--help',
  '-h',
  'version',
  '--version',
  '-v',
]);
// cmd/myrai/main.go: the flag package's flags
const STRING_FLAGS = new Set(['config', 'data', 'm']);
const BOOL_FLAGS = new Set(['cli', 'server', 'onboard']);

// internal/config/config.go:loadStandardEnvVars (name, key env, default base URL). Base URL and model
// come from <NAME>_BASE_URL and <NAME>_MODEL.
const STANDARD = [
  ['openai', 'OPENAI_API_KEY', 'https://api.openai.com/v1'],
  ['anthropic', 'ANTHROPIC_API_KEY', 'https://api.anthropic.com/v1'],
  ['google', 'GOOGLE_API_KEY', 'https://generativelanguage.googleapis.com/v1beta'],
  ['openrouter', 'OPENROUTER_API_KEY', 'https://openrouter.ai/api/v1'],
  ['kimi', 'KIMI_API_KEY', 'https://api.moonshot.cn/v1'],
  ['deepseek', 'DEEPSEEK_API_KEY', 'https://api.deepseek.com/v1'],
  ['groq', 'GROQ_API_KEY', 'https://api.groq.com/openai/v1'],
  ['mistral', 'MISTRAL_API_KEY', 'https://api.mistral.ai/v1'],
  ['together', 'TOGETHER_API_KEY', 'https://api.together.xyz/v1'],
  ['cerebras', 'CEREBRAS_API_KEY', 'https://api.cerebras.ai/v1'],
  ['xai', 'XAI_API_KEY', 'https://api.x.ai/v1'],
  ['perplexity', 'PERPLEXITY_API_KEY', 'https://api.perplexity.ai/v1'],
  ['fireworks', 'FIREWORKS_API_KEY', 'https://api.fireworks.ai/inference/v1'],
  ['novita', 'NOVITA_API_KEY', 'https://api.novita.ai/v3/openai'],
  ['siliconflow', 'SILICONFLOW_API_KEY', 'https://api.siliconflow.cn/v1'],
  ['zhipu', 'ZHIPU_API_KEY', 'https://open.bigmodel.cn/api/paas/v4'],
  ['moonshot', 'MOONSHOT_API_KEY', 'https://api.moonshot.cn/v1'],
  ['ollama', 'OLLAMA_API_KEY', 'http://localhost:11434/v1'],
  ['localai', 'LOCALAI_API_KEY', 'http://localhost:8080/v1'],
  ['vllm', 'VLLM_API_KEY', 'http://localhost:8000/v1'],
];
// internal/config/env.go:envAliases (only the ones config.go resolves)
const ALIASES = {
  MYRAI_LLM_PROVIDERS_KIMI_API_KEY: ['KIMI_API_KEY', 'MOONSHOT_API_KEY'],
  MYRAI_LLM_PROVIDERS_OPENROUTER_API_KEY: ['OPENROUTER_API_KEY'],
  MYRAI_CHANNELS_TELEGRAM_BOT_TOKEN: ['TELEGRAM_BOT_TOKEN'],
};
// internal/llm/client.go posts <base_url>/chat/completions: the OpenAI-compatible base of the
// known hosts (a base that differs reaches a path the vendor does not serve).
const OPENAI_COMPATIBLE_BASE = {
  'api.openai.com': ['/v1'],
  'api.anthropic.com': ['/v1'],
  'generativelanguage.googleapis.com': ['/v1beta/openai'],
  'openrouter.ai': ['/api/v1'],
  'api.groq.com': ['/openai/v1'],
  'api.mistral.ai': ['/v1'],
  'api.deepseek.com': ['', '/v1'],
};

const get = (env, k) => (typeof env[k] === 'string' && env[k] !== '' ? env[k] : undefined);
const resolveAlias = (env, k) => get(env, k) || (ALIASES[k] || []).map((a) => get(env, a)).find(Boolean);
const isRecord = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const lowerKeys = (o) =>
  isRecord(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v])) : {};

/** Go's flag package on os.Args[1:]: stops at the first non-flag argument or after "--". */
function goFlags(args, problems) {
  const flags = {};
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a.length < 2 || a[0] !== '-') break;
    const body = a.replace(/^--?/, '');
    if (body === '' || body[0] === '-' || body[0] === '=') {
      problems.push(`bad flag syntax: ${a}`);
      return undefined;
    }
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === 'h' || name === 'help') {
      problems.push(`flag: help requested (-${name} prints the usage and exits)`);
      return undefined;
    }
    if (STRING_FLAGS.has(name)) {
      if (eq >= 0) flags[name] = body.slice(eq + 1);
      else if (i + 1 < args.length) flags[name] = args[++i];
      else {
        problems.push(`flag needs an argument: -${name}`);
        return undefined;
      }
    } else if (BOOL_FLAGS.has(name)) {
      const v = eq >= 0 ? body.slice(eq + 1) : 'true';
      if (!/^(1|0|t|f|true|false|TRUE|FALSE|True|False|T|F)$/.test(v)) {
        problems.push(`invalid boolean value ${JSON.stringify(v)} for -${name}`);
        return undefined;
      }
      flags[name] = /^(1|t|true)$/i.test(v);
    } else {
      problems.push(`flag provided but not defined: -${name}`);
      return undefined;
    }
  }
  const rest = args.slice(i);
  const lost = rest.filter((a) => a.startsWith('-') && a !== '-');
  if (rest.length > 0 && lost.length > 0) {
    problems.push(
      `flag parsing stops at the first non-flag argument ${JSON.stringify(rest[0])}: ${lost.join(' ')} ignored`,
    );
  }
  return flags;
}

function expand(p, home) {
  if (p.startsWith('~/')) return path.resolve(CWD, path.join(home, p.slice(2)));
  return path.resolve(CWD, p);
}

module.exports = function myraiContract({ env, argv, readConfig, home }) {
  const problems = [];
  let args = argv && argv.length > 0 ? argv.slice() : IMAGE_CMD.slice();
  // Docker sets HOME from the image's /etc/passwd when the env has none: user myrai is /home/myrai.
  const homeDir = get(env, 'HOME') || (home && home !== '/' ? home : '/home/myrai');

  // cmd/myrai/main.go:main
  let flags = {};
  if (SUBCOMMANDS.has(args[0])) {
    if (args[0] === 'gateway' && (args[1] === 'run' || args[1] === 'start')) {
      // internal/cli/commands.go:HandleGatewayCommand: the server, but flags are never parsed.
      if (args.slice(2).some((a) => a.startsWith('-')))
        problems.push(`gateway ${args[1]} does not parse flags: ${args.slice(2).join(' ')} ignored`);
    } else {
      problems.push(
        `myrai ${args.slice(0, 2).join(' ')}: a CLI command, it does not run the server (the server runs with flags only, e.g. --data /app/data)`,
      );
      return { problems, host: '0.0.0.0' };
    }
  } else {
    flags = goFlags(args, problems);
    if (!flags) return { problems, host: '0.0.0.0' };
    if (flags.onboard) {
      problems.push('-onboard runs the onboarding wizard instead of the server');
      return { problems, host: '0.0.0.0' };
    }
    if (flags.cli || flags.m) {
      problems.push('-cli / -m run one CLI conversation instead of the server');
      return { problems, host: '0.0.0.0' };
    }
  }

  // internal/config/config.go:Load, getDefaultDataDir
  let dataDir = flags.data;
  if (!dataDir) {
    if (get(env, 'XDG_DATA_HOME')) dataDir = path.join(env.XDG_DATA_HOME, 'myrai');
    else dataDir = path.join(homeDir, '.local', 'share', 'myrai');
  }
  dataDir = expand(dataDir, homeDir);
  if (dataDir !== VOLUME && !dataDir.startsWith(VOLUME + '/')) {
    problems.push(
      `data directory ${dataDir} is not the image's volume ${VOLUME}: myrai.db, badger/ and myrai.yaml would be lost with the container (pass --data ${VOLUME})`,
    );
  }
  if (get(env, 'MYRAI_STORAGE_DATA_DIR') && expand(env.MYRAI_STORAGE_DATA_DIR, homeDir) !== dataDir) {
    problems.push(
      `MYRAI_STORAGE_DATA_DIR moves storage.data_dir only: myrai.db and badger/ stay in ${dataDir}`,
    );
  }
  const configPath = flags.config ? expand(flags.config, homeDir) : path.join(dataDir, 'myrai.yaml');
  const ext = path.extname(configPath).slice(1).toLowerCase();
  let raw = readConfig(configPath);
  if (raw !== undefined && !['yaml', 'yml', 'json'].includes(ext)) {
    problems.push(
      `Failed to load config: failed to read config: Unsupported Config Type ${JSON.stringify(ext)}`,
    );
    raw = undefined;
  }
  if (raw && raw.__unparsable) {
    problems.push(`Failed to load config: failed to read config: ${configPath}: ${raw.__unparsable}`);
    return { problems, host: '0.0.0.0' };
  }
  const cfg = lowerKeys(raw);
  const server = lowerKeys(cfg.server);
  const llm = lowerKeys(cfg.llm);

  // viper: defaults, then the file, then MYRAI_<KEY> for keys viper knows (AutomaticEnv).
  const providers = {
    kimi: { base_url: 'https://api.moonshot.cn/v1', model: 'kimi-k2.5', timeout: 60, max_tokens: 4096 },
  };
  for (const [name, p] of Object.entries(lowerKeys(llm.providers)))
    providers[name] = { ...(providers[name] || {}), ...lowerKeys(p) };
  for (const [name, p] of Object.entries(providers)) {
    for (const field of Object.keys(p)) {
      const v = get(env, `MYRAI_LLM_PROVIDERS_${name}_${field}`.toUpperCase());
      if (v !== undefined) p[field] = v;
    }
  }
  let defaultProvider = get(env, 'MYRAI_LLM_DEFAULT_PROVIDER') || llm.default_provider || 'kimi';

  // loadEnvOverrides
  const kimiKey = resolveAlias(env, 'MYRAI_LLM_PROVIDERS_KIMI_API_KEY');
  if (kimiKey) {
    providers.kimi.api_key = kimiKey;
    providers.kimi.base_url = get(env, 'MYRAI_LLM_PROVIDERS_KIMI_BASE_URL') || providers.kimi.base_url;
  }
  const orKey = resolveAlias(env, 'MYRAI_LLM_PROVIDERS_OPENROUTER_API_KEY');
  if (orKey) {
    const or = providers.openrouter || (providers.openrouter = {});
    or.api_key = orKey;
    or.base_url = get(env, 'MYRAI_LLM_PROVIDERS_OPENROUTER_BASE_URL') || or.base_url;
  }
  let address = server.address !== undefined ? String(server.address) : '0.0.0.0';
  if (get(env, 'MYRAI_SERVER_ADDRESS') !== undefined) address = env.MYRAI_SERVER_ADDRESS;
  const envPort = get(env, 'MYRAI_SERVER_PORT');
  if (envPort !== undefined && !/^[+-]?\d+$/.test(envPort))
    problems.push(`MYRAI_SERVER_PORT=${envPort} is not a number: Myrai ignores it`);

  // loadStandardEnvVars
  for (const [name, keyEnv, defaultBase] of STANDARD) {
    const key = get(env, keyEnv);
    if (!key) continue;
    const p = providers[name] || (providers[name] = {});
    p.api_key = key;
    if (!p.base_url) p.base_url = get(env, `${name.toUpperCase()}_BASE_URL`) || defaultBase;
  }
  if (get(env, 'AZURE_OPENAI_API_KEY')) {
    const base = (get(env, 'AZURE_OPENAI_ENDPOINT') || 'https://your-resource.openai.azure.com').replace(
      /\/$/,
      '',
    );
    providers.azure = {
      api_key: env.AZURE_OPENAI_API_KEY,
      base_url: `${base}/openai/deployments/${get(env, 'AZURE_OPENAI_DEPLOYMENT') || 'gpt-4o'}`,
    };
  }

  // validate: the default provider, else one (Go map order: any) that has a key.
  const keyed = Object.keys(providers).filter((n) => providers[n] && providers[n].api_key);
  if (!(providers[defaultProvider] && providers[defaultProvider].api_key)) {
    if (keyed.length === 0) {
      problems.push(
        'Failed to load config: no LLM provider configured. Set an API key via environment variable (e.g., OPENAI_API_KEY, ANTHROPIC_API_KEY, KIMI_API_KEY) or in myrai.yaml',
      );
    } else if (keyed.length > 1) {
      problems.push(
        `several LLM providers have keys (${keyed.join(', ')}) and llm.default_provider (${defaultProvider}) has none: Myrai picks one at random`,
      );
    }
    defaultProvider = keyed[0];
  }
  const chosen = defaultProvider && providers[defaultProvider];
  if (chosen && chosen.api_key) {
    const base = String(chosen.base_url || '');
    if (!base) {
      problems.push(
        `llm.providers.${defaultProvider}.base_url is empty: requests would go to /chat/completions`,
      );
    } else {
      let u;
      try {
        u = new URL(base);
      } catch (e) {
        problems.push(`llm.providers.${defaultProvider}.base_url ${JSON.stringify(base)} is not a URL`);
      }
      const expected = u && OPENAI_COMPATIBLE_BASE[u.hostname];
      if (expected && !expected.includes(u.pathname.replace(/\/+$/, ''))) {
        problems.push(
          `llm.providers.${defaultProvider}: POST ${base.replace(/\/+$/, '')}/chat/completions is not ${u.hostname}'s OpenAI-compatible endpoint (base URL ${u.origin}${expected[expected.length - 1]})`,
        );
      }
    }
  }

  // Telegram: a token in myrai.yaml is overwritten by the env lookup (loadEnvOverrides); only env counts.
  const tg = lowerKeys(lowerKeys(cfg.channels).telegram);
  if (Array.isArray(tg.allow_list)) {
    const bad = tg.allow_list.filter(
      (x) => !(Number.isInteger(x) || (typeof x === 'string' && /^\s*[+-]?\d+\s*$/.test(x))),
    );
    if (bad.length > 0)
      problems.push(
        `Failed to load config: channels.telegram.allow_list: cannot decode ${bad.map((x) => JSON.stringify(x)).join(', ')} as int64`,
      );
  }

  // internal/api/routes.go:Start listens on address:port (fiber: tcp4).
  const a = address.trim();
  const host =
    a === '' || a === '0.0.0.0' || a === '::' || a === '[::]'
      ? '0.0.0.0'
      : a === 'localhost'
        ? '127.0.0.1'
        : a;
  return { problems, host };
};
