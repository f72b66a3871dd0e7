/**
 * API: GET /api/marketplace/agents requests/s on the real coordinator (createApp on PGlite, or a
 * schema of its own when DATABASE_URL is set) vs a bare node:http server answering the very same
 * JSON body, in the same run.
 *
 * Same client for both: autocannon in a child process (so the load generator does not share an
 * event loop with the server under test), same connections, same duration, one untimed warm-up
 * run each. Both servers live in this process; only one is under load at a time.
 *
 * Also measured in-process, for the findings: one call of MarketplaceService.agents(), the two
 * catalogue queries it makes, and building the same answer from records already in memory.
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MarketplaceService, agentView } from '../apps/coordinator/src/marketplace/marketplace.service';
import { RegistryService } from '../apps/coordinator/src/registry/registry.service';
import { PLAN } from '../apps/coordinator/src/slot-model';
import { BenchRow, defineBench, measureRate } from './harness';
import { startBenchCoordinator } from './support/coordinator';

const ROUTE = '/api/marketplace/agents';

interface Cannon {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  bytesPerReq: number;
}

function autocannon(url: string, connections: number, seconds: number): Promise<Cannon> {
  const bin = path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js');
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [bin, '-j', '-c', String(connections), '-d', String(seconds), url],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => {
        if (err) return reject(err);
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- autocannon's JSON result
        const r = JSON.parse(stdout) as any;
        resolve({
          reqPerSec: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          requests: r.requests.total,
          non2xx: r.non2xx,
          errors: r.errors,
          bytesPerReq: r.requests.total ? r.throughput.total / r.requests.total : 0,
        });
      },
    ),
  );
}

export default defineBench({
  name: 'api',
  description: 'GET /api/marketplace/agents req/s on the coordinator (PGlite) vs a bare node:http server with the same body',
  async run(ctx) {
    const seconds = ctx.quick ? 3 : 10;
    const connections = 10;
    const b = await startBenchCoordinator({ withNode: false });
    let bare: http.Server | undefined;
    try {
      const sample = await fetch(`${b.base}${ROUTE}`);
      const body = await sample.text();
      if (sample.status !== 200) throw new Error(`${ROUTE}: HTTP ${sample.status} ${body}`);
      bare = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      await new Promise<void>((r) => bare!.listen(0, '127.0.0.1', () => r()));
      const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}${ROUTE}`;

      ctx.log('warm-up: 2 s each');
      await autocannon(`${b.base}${ROUTE}`, connections, 2);
      await autocannon(bareUrl, connections, 2);
      ctx.log(`coordinator: ${connections} connections, ${seconds} s`);
      const ours = await autocannon(`${b.base}${ROUTE}`, connections, seconds);
      ctx.log(`bare node:http: ${connections} connections, ${seconds} s`);
      const base = await autocannon(bareUrl, connections, seconds);
      for (const [who, r] of [['coordinator', ours], ['bare', base]] as const)
        if (r.non2xx || r.errors) throw new Error(`${who}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);

      const registry = b.c.app.get(RegistryService);
      const providers = await registry.listProviders();
      const types = await registry.listAgentTypes();
      ctx.log(`coordinator GET /healthz (no database): ${connections} connections, ${seconds} s`);
      const healthz = await autocannon(`${b.base}/healthz`, connections, seconds);

      // In-process: what one marketplace read costs, and how much of it is the two catalogue queries.
      const svc = b.c.app.get(MarketplaceService);
      const minMs = ctx.quick ? 300 : 2000;
      const full = await measureRate(() => svc.agents().then(() => undefined), { minMs, warmupOps: 50 });
      const queries = await measureRate(
        async () => {
          await registry.listProviders();
          await registry.listAgentTypes();
        },
        { minMs, warmupOps: 50 },
      );
      const cached = await measureRate(
        () => {
          const active = new Set(providers.filter((p) => p.is_active).map((p) => p.id));
          JSON.stringify({ plan: PLAN, agents: types.filter((a) => a.is_active || a.status === 'planned').map((a) => agentView(a, active)) });
        },
        { minMs, warmupOps: 50 },
      );
      const us = (r: { perSecond: number }) => Math.round(1e6 / r.perSecond);

      const rows: BenchRow[] = [
        { server: 'coordinator (Nest + PGlite)', 'req/s': ours.reqPerSec, 'p50 ms': ours.p50, 'p99 ms': ours.p99, requests: ours.requests, 'bytes/req': Math.round(ours.bytesPerReq) },
        { server: 'reference: coordinator GET /healthz', 'req/s': healthz.reqPerSec, 'p50 ms': healthz.p50, 'p99 ms': healthz.p99, requests: healthz.requests, 'bytes/req': Math.round(healthz.bytesPerReq) },
        { server: 'bare node:http, same body', 'req/s': base.reqPerSec, 'p50 ms': base.p50, 'p99 ms': base.p99, requests: base.requests, 'bytes/req': Math.round(base.bytesPerReq) },
      ];
      return {
        rows,
        ratio: { value: ours.reqPerSec / base.reqPerSec, label: 'coordinator / bare req/s' },
        notes: [
          `autocannon in a child process, ${connections} connections, ${seconds} s each, keep-alive; body ${Buffer.byteLength(body)} bytes`,
          `in-process, per call: MarketplaceService.agents() ${us(full)} µs; its two catalogue reads (listProviders + listAgentTypes, from the snapshot) ${us(queries)} µs; ` +
            `the same answer built and serialised from records in memory ${us(cached)} µs`,
          'the registry serves the catalogue from an in-memory snapshot (refreshed on sync, admin PATCH, or after 10 s); before that, each read cost two PGlite queries and the ratio was 0.0137x (313 req/s)',
          'GET /healthz: the Nest/Express floor (routing, guards, metrics middleware) with a tiny body and no database',
          'The client and both servers share 2 cores; other engineers\' tests on the machine add noise.',
        ],
        data: { ours, base, healthz, perCallUs: { service: us(full), queries: us(queries), cachedBuild: us(cached) } },
      };
    } finally {
      if (bare) await new Promise<void>((r) => bare!.close(() => r()));
      await b.close();
    }
  },
});
