import * as http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The daemon's Prometheus metrics (names under berth_node_), in their own registry. */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly slots = new Gauge({
    name: 'berth_node_slots',
    help: 'Slots on this node by state',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly allocatableMemory = new Gauge({
    name: 'berth_node_allocatable_memory_bytes',
    help: 'Memory slots may use',
    registers: [this.registry],
  });
  readonly allocatedMemory = new Gauge({
    name: 'berth_node_allocated_memory_bytes',
    help: 'Memory given to slots',
    registers: [this.registry],
  });
  readonly allocatableCpu = new Gauge({
    name: 'berth_node_allocatable_cpus',
    help: 'CPUs slots may use',
    registers: [this.registry],
  });
  readonly allocatedCpu = new Gauge({
    name: 'berth_node_allocated_cpus',
    help: 'CPUs given to slots',
    registers: [this.registry],
  });
  readonly portsFree = new Gauge({
    name: 'berth_node_ports_free',
    help: 'Free host ports in the pool',
    registers: [this.registry],
  });
  readonly portsTotal = new Gauge({
    name: 'berth_node_ports_total',
    help: 'Host ports in the pool',
    registers: [this.registry],
  });
  readonly dockerUp = new Gauge({
    name: 'berth_node_docker_up',
    help: '1 when the Docker engine answers',
    registers: [this.registry],
  });
  readonly probeDuration = new Histogram({
    name: 'berth_node_probe_duration_seconds',
    help: 'Health probe latency',
    labelNames: ['result'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly deployDuration = new Histogram({
    name: 'berth_node_deploy_duration_seconds',
    help: 'From Deploy accepted to healthy or failed',
    labelNames: ['result'],
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
  readonly imagePulls = new Counter({
    name: 'berth_node_image_pulls_total',
    help: 'Registry pulls by result (ok, or the failure reason); cached images are not pulls',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly imagePullDuration = new Histogram({
    name: 'berth_node_image_pull_duration_seconds',
    help: 'From the start of a registry pull (retries included) to the image on the node, or the failure',
    labelNames: ['result'],
    buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly imageBytes = new Gauge({
    name: 'berth_node_image_bytes',
    help: "Disk the engine's images take (shared layers once), read at start, around each pull and after evictions",
    registers: [this.registry],
  });
  readonly imageEvictions = new Counter({
    name: 'berth_node_image_evictions_total',
    help: 'Images the daemon removed to bring image disk use under BERTH_NODE_IMAGE_BUDGET',
    registers: [this.registry],
  });
  readonly reaped = new Counter({
    name: 'berth_node_reaped_total',
    help: 'Orphan containers/networks reaped (or that would be, in dry-run)',
    labelNames: ['kind', 'dry_run'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_node_process_' });
  }
}

export async function startMetricsServer(
  metrics: NodeMetrics,
  host: string,
  port: number,
  beforeScrape: () => void,
): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    if (req.url === '/metrics' && req.method === 'GET') {
      beforeScrape();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    if (req.url === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
