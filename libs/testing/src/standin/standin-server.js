/* eslint-disable */
// Stand-in agent: a tiny HTTP server baked into FROM-scratch test images (see ../standin-image.ts).
// Plain CommonJS, no dependencies: it runs on the host's node binary inside the image.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const net = require('net');
const { spawn } = require('child_process');

const env = process.env;
const ports = (env.STANDIN_PORTS || '8080').split(',').map(Number);
const healthPort = Number(env.STANDIN_HEALTH_PORT || ports[0]);
const healthPath = env.STANDIN_HEALTH_PATH || '/health';
const dataDir = env.STANDIN_DATA_DIR || '/data';
const behaviour = env.STANDIN_BEHAVIOUR || 'healthy';
const startDelay = Number(env.STANDIN_START_DELAY_MS || (behaviour === 'slow-start' ? 5000 : 0));
const started = Date.now();

// An agent's contract (contracts/<id>.js, chosen by STANDIN_CONTRACT): it reads the same config
// file and env names as the real program and says what is wrong with them. A stand-in whose
// contract finds a problem stays unhealthy and says why, so a template mistake fails a test; it
// also listens where the real program would (loopback unless the template sets the host).
const contractName = env.STANDIN_CONTRACT || '';
const contract = contractName ? require(`./contracts/${contractName}.js`) : undefined;
function readConfig(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return e.code === 'ENOENT' ? undefined : { __unparsable: String(e.message) };
  }
}
const verdict = contract
  ? contract({ env, argv: process.argv.slice(2), readConfig, home: env.HOME || '/' })
  : { problems: [] };
const problems = verdict.problems || [];
for (const p of problems) process.stdout.write(`standin: contract ${contractName}: ${p}\n`);
const listenHost = verdict.host || '0.0.0.0';
const hoard = [];
const children = [];

function log(msg) {
  process.stdout.write(`standin: ${msg}\n`);
}

function hog() {
  log('eating memory');
  const t = setInterval(() => {
    const b = Buffer.alloc(16 * 1024 * 1024, 1);
    hoard.push(b);
  }, 20);
  t.unref && 0;
}

function forkMany(max) {
  let spawned = 0;
  let error = null;
  for (let i = 0; i < max; i++) {
    try {
      const c = spawn('/bin/busybox', ['sleep', '600'], { stdio: 'ignore' });
      let failed = false;
      c.on('error', (e) => {
        failed = true;
      });
      if (!c.pid) {
        error = 'spawn failed (no pid)';
        break;
      }
      children.push(c);
      spawned++;
    } catch (e) {
      error = String((e && e.code) || e);
      break;
    }
  }
  return { spawned, error };
}

if (behaviour === 'crash')
  setTimeout(
    () => {
      log('crashing as told');
      process.exit(3);
    },
    Number(env.STANDIN_CRASH_AFTER_MS || 500),
  );
if (behaviour === 'memory-hog') hog();
if (behaviour === 'fork-bomb') setTimeout(() => log(`fork bomb: ${JSON.stringify(forkMany(100000))}`), 100);

function ready() {
  return behaviour !== 'never-healthy' && problems.length === 0 && Date.now() - started >= startDelay;
}

function json(res, code, body) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function handler(port) {
  return (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === healthPath && port === healthPort)
      return ready() ? json(res, 200, { ok: true }) : json(res, 503, { ok: false, problems });
    if (url.pathname === '/contract') return json(res, 200, { contract: contractName, problems, argv: process.argv.slice(2) });
    if (url.pathname === '/env') return json(res, 200, process.env);
    if (url.pathname === '/whoami')
      return json(res, 200, { uid: process.getuid(), gid: process.getgid(), port, pid: process.pid });
    if (url.pathname === '/data') {
      const file = path.join(dataDir, url.searchParams.get('file') || 'standin.txt');
      if (!file.startsWith(dataDir + '/')) return json(res, 400, { error: 'bad file' });
      if (req.method === 'GET') {
        fs.readFile(file, 'utf8', (err, content) =>
          err ? json(res, 404, { error: String(err.code) }) : json(res, 200, { content }),
        );
        return;
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () =>
        fs.writeFile(file, body, (err) =>
          err ? json(res, 500, { error: String(err.code) }) : json(res, 200, { written: body.length }),
        ),
      );
      return;
    }
    if (url.pathname === '/log' && req.method === 'POST') {
      log(url.searchParams.get('line') || 'log line');
      return json(res, 200, { logged: true });
    }
    if (url.pathname === '/rootfs-write') {
      try {
        fs.writeFileSync('/standin-rootfs-probe', 'x');
        return json(res, 200, { ok: true });
      } catch (e) {
        return json(res, 200, { ok: false, error: String(e.code) });
      }
    }
    if (url.pathname === '/hog' && req.method === 'POST') {
      hog();
      return json(res, 202, { hogging: true });
    }
    if (url.pathname === '/fork' && req.method === 'POST')
      return json(res, 200, forkMany(Number(url.searchParams.get('max') || 1000)));
    if (url.pathname === '/connect') {
      const host = url.searchParams.get('host');
      const p = Number(url.searchParams.get('port'));
      const timeoutMs = Number(url.searchParams.get('timeoutMs') || 2000);
      const s = net.connect({ host, port: p });
      const done = (body) => {
        s.destroy();
        if (!res.headersSent) json(res, 200, body);
      };
      s.setTimeout(timeoutMs, () => done({ ok: false, error: 'timeout' }));
      s.on('connect', () => done({ ok: true }));
      s.on('error', (e) => done({ ok: false, error: String(e.code || e.message) }));
      return;
    }
    json(res, 404, { error: 'not found', port });
  };
}

for (const p of ports) {
  http
    .createServer(handler(p))
    .listen(p, listenHost, () =>
      log(`listening on ${listenHost === '0.0.0.0' ? '' : `${listenHost}:`}${p} (health ${healthPath} on ${healthPort}, behaviour ${behaviour})`),
    );
}
process.on('SIGTERM', () => {
  log('SIGTERM, exiting');
  process.exit(0);
});
