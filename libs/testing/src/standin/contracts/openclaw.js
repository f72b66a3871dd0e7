/* eslint-disable */
// OpenClaw's start contract, as read from the published package openclaw@2026.9.6 (npm pack; the
// compiled files keep their source names): what `openclaw gateway` reads and refuses before it
// listens. Plain CommonJS, no dependencies: it runs inside the FROM-scratch stand-in image too.
//   argv   the container's command (the image's entrypoint being tini / node)
//   env    the container's environment
//   readConfig(absPath)  parsed JSON, undefined when missing, { __unparsable } when not JSON
'use strict';
const path = require('path').posix;

// src/agents/defaults.ts
const DEFAULT_MODEL_REF = 'openai/gpt-6-astra';
// src/config/paths.ts
const DEFAULT_GATEWAY_PORT = 18789;
// The image's WORKDIR (relative paths resolve against it).
const CWD = '/app';

// Model providers bundled in dist/extensions/*/openclaw.plugin.json (setup.providers[].envVars),
// the ones a chat model can run on without installing a plugin.
const BUNDLED_PROVIDER_ENV = {
  anthropic: ['ANTHROPIC_OAUTH_TOKEN', 'ANTHROPIC_API_KEY'],
  openai: ['OPENAI_API_KEY'],
  google: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  openrouter: ['OPENROUTER_API_KEY'],
  xai: ['XAI_API_KEY'],
  together: ['TOGETHER_API_KEY'],
  nvidia: ['NVIDIA_API_KEY'],
  huggingface: ['HUGGINGFACE_HUB_TOKEN', 'HF_TOKEN'],
  litellm: ['LITELLM_API_KEY'],
  minimax: ['MINIMAX_CODE_PLAN_KEY', 'MINIMAX_CODING_API_KEY', 'MINIMAX_API_KEY'],
  alibaba: ['MODELSTUDIO_API_KEY', 'DASHSCOPE_API_KEY', 'QWEN_API_KEY'],
  'microsoft-foundry': ['AZURE_OPENAI_API_KEY'],
  'opencode-go': ['OPENCODE_API_KEY', 'OPENCODE_ZEN_API_KEY'],
  clawrouter: ['CLAWROUTER_API_KEY'],
  ollama: ['OLLAMA_API_KEY'],
  vllm: ['VLLM_API_KEY'],
  sglang: ['SGLANG_API_KEY'],
  lmstudio: ['LM_API_TOKEN'],
};
// scripts/lib/official-external-provider-catalog.json: installed separately, not in the image.
const EXTERNAL_PROVIDERS = {
  groq: '@openclaw/groq-provider',
  mistral: '@openclaw/mistral-provider',
  deepseek: '@openclaw/deepseek-provider',
  cerebras: '@openclaw/cerebras-provider',
  'amazon-bedrock': '@openclaw/amazon-bedrock-provider',
};

const ROOT_BOOLEAN = new Set(['--no-color']);
const ROOT_VALUE = new Set(['--log-level', '--container']);
// src/cli/gateway-cli/run-command.ts:addGatewayRunCommand
const RUN_VALUE = new Set([
  '--port',
  '--bind',
  '--token',
  '--auth',
  '--password',
  '--password-file',
  '--tailscale',
  '--ws-log',
  '--raw-stream-path',
]);
const RUN_BOOLEAN = new Set([
  '--allow-unconfigured',
  '--dev',
  '--ambient-channels',
  '--dev-ambient-channels',
  '--reset',
  '--force',
  '--verbose',
  '--cli-backend-logs',
  '--claude-cli-logs',
  '--compact',
  '--raw-stream',
  '--tailscale-reset-on-exit',
  '--update-canary',
]);
const HELP = new Set(['-h', '--help', 'help', '-V', '--version', 'version']);
const BIND_MODES = ['loopback', 'lan', 'tailnet', 'auto', 'custom'];
const AUTH_MODES = ['none', 'token', 'password', 'trusted-proxy'];

const str = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const isRecord = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
// A secret input is a string or a SecretRef object ({ source, id }).
const hasSecretInput = (v) => str(v) !== undefined || (isRecord(v) && typeof v.source === 'string');

/** The gateway command's options, or a problem when argv does not run `openclaw gateway`. */
function parseArgv(argv, problems) {
  const a = argv.slice();
  const opts = {};
  if (a.length === 0) {
    problems.push(
      'no command: the image needs `node dist/index.js gateway ...` (or openclaw.mjs) to run the gateway',
    );
    return undefined;
  }
  if (/(^|\/)node$/.test(a[0])) {
    a.shift();
    while (a.length && a[0].startsWith('-')) a.shift(); // node's own options
    const script = a.shift();
    if (!script || !/(^|\/)(openclaw\.mjs|dist\/index\.js|dist\/entry\.js)$/.test(script)) {
      problems.push(`node ${script || ''}: not OpenClaw's CLI entry (openclaw.mjs or dist/index.js in /app)`);
      return undefined;
    }
  } else if (/(^|\/)openclaw$/.test(a[0])) {
    a.shift();
  } else {
    problems.push(`${a[0]}: not the OpenClaw CLI (node dist/index.js, node openclaw.mjs or openclaw)`);
    return undefined;
  }
  const command = [];
  const positionals = [];
  for (let i = 0; i < a.length; i++) {
    const arg = a[i];
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (HELP.has(arg)) {
      problems.push(`${arg}: prints help or the version and exits instead of running the gateway`);
      return undefined;
    }
    if (command.length === 0) {
      if (ROOT_BOOLEAN.has(name)) continue;
      if (ROOT_VALUE.has(name)) {
        if (inline === undefined) i++;
        continue;
      }
      if (name === '--profile' || name === '--dev') {
        problems.push(
          `${name}: a named profile keeps its state in ~/.openclaw-<profile>, not in the data volume`,
        );
        continue;
      }
    }
    if (!arg.startsWith('-')) {
      if (command.length === 0) command.push(arg);
      else if (command.length === 1 && command[0] === 'gateway' && arg === 'run' && positionals.length === 0)
        command.push(arg);
      else if (
        command.length === 1 &&
        command[0] === 'gateway' &&
        positionals.length === 0 &&
        Object.keys(opts).length === 0
      ) {
        problems.push(
          `gateway ${arg}: a gateway subcommand, it does not run the gateway (use \`gateway\` or \`gateway run\`)`,
        );
        return undefined;
      } else positionals.push(arg);
      continue;
    }
    if (command[0] !== 'gateway') break;
    const key = name.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (RUN_VALUE.has(name)) {
      const value = inline !== undefined ? inline : a[i + 1];
      if (inline === undefined) i++;
      if (value === undefined) {
        problems.push(`error: option '${name} <value>' argument missing`);
        return undefined;
      }
      opts[key] = value;
    } else if (RUN_BOOLEAN.has(name)) {
      opts[key] = true;
    } else {
      problems.push(`error: unknown option '${name}'`);
      return undefined;
    }
  }
  if (command[0] !== 'gateway') {
    problems.push(
      `${command[0] ? `\`${command[0]}\`` : 'no command'}: does not run the long-running gateway (\`openclaw gateway\`)`,
    );
    return undefined;
  }
  if (positionals.length > 0) {
    problems.push(
      `error: too many arguments for 'gateway'. Expected 0 arguments but got ${positionals.length}.`,
    );
    return undefined;
  }
  return opts;
}

/** src/infra/home-dir.ts: OPENCLAW_HOME (~ against the OS home), else HOME, else USERPROFILE. */
function effectiveHome(env, home) {
  // Docker sets HOME from the image's /etc/passwd when the env has none: user node is /home/node.
  const osHome = str(env.HOME) || str(env.USERPROFILE) || (home && home !== '/' ? home : '/home/node');
  const explicit = str(env.OPENCLAW_HOME);
  if (!explicit || explicit === 'undefined' || explicit === 'null') return path.resolve(CWD, osHome);
  if (explicit === '~' || explicit.startsWith('~/')) return path.resolve(CWD, explicit.replace(/^~/, osHome));
  return path.resolve(CWD, explicit);
}

function userPath(p, homeDir) {
  return path.resolve(CWD, p === '~' || p.startsWith('~/') ? p.replace(/^~/, homeDir) : p);
}

module.exports = function openclawContract({ env, argv, readConfig, home }) {
  const problems = [];
  const opts = parseArgv(argv || [], problems);
  if (!opts) return { problems, host: '127.0.0.1' };

  const profile = str(env.OPENCLAW_PROFILE);
  if (profile && profile.toLowerCase() !== 'default') {
    problems.push(
      `OPENCLAW_PROFILE=${profile}: a named profile keeps its state in ~/.openclaw-${profile}, not in the data volume`,
    );
  }

  // src/config/state-dir.ts:resolveStateDir, src/config/paths.ts:resolveCanonicalConfigPath
  const homeDir = effectiveHome(env, home);
  const stateDir = str(env.OPENCLAW_STATE_DIR)
    ? userPath(str(env.OPENCLAW_STATE_DIR), homeDir)
    : path.join(homeDir, '.openclaw');
  const configPath = str(env.OPENCLAW_CONFIG_PATH)
    ? userPath(str(env.OPENCLAW_CONFIG_PATH), homeDir)
    : path.join(stateDir, 'openclaw.json');
  const raw = readConfig(configPath);
  const configExists = raw !== undefined;
  if (raw && raw.__unparsable) {
    problems.push(`Invalid config at ${configPath}: ${raw.__unparsable}`);
    return { problems, host: '127.0.0.1' };
  }
  if (configExists && !isRecord(raw)) {
    problems.push(`Invalid config at ${configPath}: the root must be an object`);
    return { problems, host: '127.0.0.1' };
  }
  const cfg = raw || {};
  const gw = isRecord(cfg.gateway) ? cfg.gateway : {};

  // src/cli/gateway-cli/pre-bootstrap.ts:getGatewayStartGuardErrors
  if (!opts.allowUnconfigured && gw.mode !== 'local' && !(!configExists && opts.dev)) {
    if (!configExists) {
      problems.push(
        `Missing config (${configPath}). Run \`openclaw setup\` or set gateway.mode=local (or pass --allow-unconfigured).`,
      );
    } else if (gw.mode === undefined) {
      problems.push(
        'Gateway start blocked: existing config is missing gateway.mode. Set gateway.mode=local manually, or pass --allow-unconfigured.',
      );
    } else {
      problems.push(
        `Gateway start blocked: set gateway.mode=local (current: ${gw.mode}) or pass --allow-unconfigured.`,
      );
    }
  }

  // src/cli/gateway-cli/run.ts: port and bind
  if (opts.port !== undefined && !/^\d+$/.test(opts.port)) problems.push(`Invalid --port: ${opts.port}`);
  const envPort = str(env.OPENCLAW_GATEWAY_PORT);
  if (envPort !== undefined && !/^(\d+|[^:]+:\d+|\[[^\]]+\]:\d+)$/.test(envPort)) {
    problems.push(`OPENCLAW_GATEWAY_PORT=${envPort} is not a port; the gateway ignores it`);
  }
  const bind = str(opts.bind) || str(gw.bind);
  if (bind !== undefined && !BIND_MODES.includes(bind)) {
    problems.push('Invalid --bind. Use "loopback", "lan", "tailnet", "auto", or "custom".');
    return { problems, host: '127.0.0.1' };
  }
  // src/gateway/net.ts:resolveGatewayBindHost. An unset bind is 'auto' inside a container only by a
  // sentinel-file heuristic: a template must not rely on it, so unset and auto count as loopback.
  let host = '127.0.0.1';
  if (bind === 'lan') host = '0.0.0.0';
  else if (bind === 'custom') {
    const custom = str(gw.customBindHost);
    host = custom && /^(\d{1,3})(\.\d{1,3}){3}$/.test(custom) ? custom : '0.0.0.0';
  }
  const loopback = host === '127.0.0.1' || host === 'localhost';

  // src/gateway/auth-resolve.ts, src/gateway/credentials.ts, run.ts:shouldBlockGatewayBindWithoutExplicitAuth
  const authCfg = isRecord(gw.auth) ? gw.auth : {};
  if (opts.auth !== undefined && !AUTH_MODES.includes(opts.auth)) {
    problems.push('Invalid --auth. Use "none", "token", "password", or "trusted-proxy".');
    return { problems, host };
  }
  const tokenConfigured = Boolean(
    str(opts.token) || hasSecretInput(authCfg.token) || str(env.OPENCLAW_GATEWAY_TOKEN),
  );
  const passwordConfigured = Boolean(
    str(opts.password) ||
    opts.passwordFile ||
    hasSecretInput(authCfg.password) ||
    str(env.OPENCLAW_GATEWAY_PASSWORD),
  );
  const authMode =
    opts.auth || authCfg.mode || (passwordConfigured && !tokenConfigured ? 'password' : 'token');
  const hints = [];
  if (gw.token !== undefined)
    hints.push('Found "gateway.token" in config. Use "gateway.auth.token" instead.');
  if (isRecord(gw.remote) && gw.remote.token !== undefined)
    hints.push('"gateway.remote.token" is for remote CLI calls; it does not enable local gateway auth.');
  if (authMode === 'password' && !passwordConfigured) {
    problems.push(
      [
        'Gateway auth is set to password, but no password is configured.',
        'Set gateway.auth.password (or OPENCLAW_GATEWAY_PASSWORD), or pass --password.',
        ...hints,
      ].join(' '),
    );
  }
  const hasSharedSecret =
    (authMode === 'token' && tokenConfigured) || (authMode === 'password' && passwordConfigured);
  if (!loopback && !hasSharedSecret && authMode !== 'trusted-proxy') {
    problems.push(
      [
        `Refusing to bind gateway to ${bind} without auth.`,
        'Set gateway.auth.token/password (or OPENCLAW_GATEWAY_TOKEN/OPENCLAW_GATEWAY_PASSWORD) or pass --token/--password.',
        ...hints,
      ].join(' '),
    );
  }
  if (authMode === 'trusted-proxy' && !(Array.isArray(gw.trustedProxies) && gw.trustedProxies.length > 0)) {
    problems.push(
      'gateway auth mode=trusted-proxy requires gateway.trustedProxies to be configured with at least one proxy IP',
    );
  }

  // The model the default agent runs and the key its provider reads (config env.vars count as env).
  const configEnv = isRecord(cfg.env) ? { ...(isRecord(cfg.env.vars) ? cfg.env.vars : {}) } : {};
  const envHas = (name) => Boolean(str(env[name]) || str(configEnv[name]));
  const agentDefaults = isRecord(cfg.agents) && isRecord(cfg.agents.defaults) ? cfg.agents.defaults : {};
  const modelCfg = agentDefaults.model;
  const modelRef =
    str(typeof modelCfg === 'string' ? modelCfg : isRecord(modelCfg) ? modelCfg.primary : undefined) ||
    DEFAULT_MODEL_REF;
  const provider = modelRef.includes('/') ? modelRef.slice(0, modelRef.indexOf('/')).toLowerCase() : 'openai';
  const providerCfg =
    isRecord(cfg.models) && isRecord(cfg.models.providers) ? cfg.models.providers[provider] : undefined;
  const configKey = isRecord(providerCfg) && hasSecretInput(providerCfg.apiKey);
  const envNames = BUNDLED_PROVIDER_ENV[provider];
  if (envNames) {
    if (!configKey && !envNames.some(envHas)) {
      problems.push(
        `No API key found for provider "${provider}" (model ${modelRef}): set ${envNames.join(' or ')}, or models.providers.${provider}.apiKey in openclaw.json`,
      );
    }
  } else if (EXTERNAL_PROVIDERS[provider] && !isRecord(providerCfg)) {
    problems.push(
      `Unknown model provider "${provider}" (model ${modelRef}): it is the external plugin ${EXTERNAL_PROVIDERS[provider]}, not part of this OpenClaw install`,
    );
  } else if (!isRecord(providerCfg)) {
    problems.push(
      `Unknown model provider "${provider}" (model ${modelRef}): no bundled plugin and no models.providers.${provider} in openclaw.json`,
    );
  } else if (!configKey) {
    problems.push(
      `No API key found for provider "${provider}": set models.providers.${provider}.apiKey in openclaw.json`,
    );
  }

  // Telegram (extensions/telegram/src/accounts.ts, src/plugins/channel-presence-policy.ts): the
  // default account reads TELEGRAM_BOT_TOKEN, but a channel configured only by env is suppressed
  // unless the gateway runs with --ambient-channels.
  const channels = isRecord(cfg.channels) ? cfg.channels : {};
  const tg = channels.telegram;
  if (envHas('TELEGRAM_BOT_TOKEN')) {
    if (isRecord(tg) && tg.enabled === false) {
      problems.push('channels.telegram.enabled=false: TELEGRAM_BOT_TOKEN is ignored');
    } else {
      const explicit = isRecord(tg) && (tg.enabled === true || Object.keys(tg).some((k) => k !== 'enabled'));
      if (!explicit && !opts.ambientChannels && !opts.devAmbientChannels) {
        problems.push(
          'TELEGRAM_BOT_TOKEN is set but channels.telegram is not configured in openclaw.json: the gateway suppresses channels present only in the environment (configure channels.telegram or pass --ambient-channels)',
        );
      }
    }
  }
  if (isRecord(tg) && Array.isArray(tg.allowFrom)) {
    const bad = tg.allowFrom.filter(
      (x) => !(typeof x === 'number' || (typeof x === 'string' && /^(\*|-?\d+)$/.test(x.trim()))),
    );
    if (bad.length > 0)
      problems.push(
        `channels.telegram.allowFrom: Telegram sender authorization requires numeric Telegram user IDs; found ${bad.join(', ')}`,
      );
  }

  return { problems, host };
};
