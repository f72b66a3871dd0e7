import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentContracts, buildStandinImage, type StandinBehaviour } from '@berth/testing';

/**
 * Stand-ins for the catalogue's agents (AGENTS.md "Test images"): the ports, health path,
 * health port and data dir come from templates/agents/<id>/manifest.json, so a stand-in answers
 * where the node daemon probes the real agent. Each image runs as 1000:1000 and ignores the
 * template's command (it arrives as arguments to the stand-in's entrypoint).
 */
export const TEMPLATES_DIR = join(__dirname, '..', '..', 'templates');

export interface AgentManifestFacts {
  id: string;
  internal_port: number;
  ports: { name: string; container_port: number; publish: boolean }[];
  health_endpoint: string;
  health_port_name?: string;
  data_dir: string;
  start_period_seconds: number;
  min_memory: string;
}

export function agentManifest(agentTypeId: string): AgentManifestFacts {
  return JSON.parse(readFileSync(join(TEMPLATES_DIR, 'agents', agentTypeId, 'manifest.json'), 'utf8')) as AgentManifestFacts;
}

/**
 * Builds (or reuses) `<prefix>-<agent>:<behaviour>` and returns its tag. With `contract`, the
 * stand-in enforces the agent's real contract (libs/testing/src/standin/contracts/<id>.js): it
 * stays unhealthy, printing why, unless the env, command and config file are what the real
 * program reads, and listens on loopback when the real program would.
 */
export async function buildAgentStandin(
  agentTypeId: string,
  opts: { behaviour?: StandinBehaviour; prefix?: string; env?: Record<string, string>; contract?: boolean } = {},
): Promise<string> {
  if (opts.contract && !agentContracts().includes(agentTypeId)) throw new Error(`${agentTypeId} has no stand-in contract`);
  const m = agentManifest(agentTypeId);
  const behaviour = opts.behaviour ?? 'healthy';
  const healthPortName = m.health_port_name ?? m.ports[0].name;
  const healthPort = m.ports.find((p) => p.name === healthPortName)?.container_port;
  if (!healthPort) throw new Error(`${agentTypeId}: health port '${healthPortName}' is not among its ports`);
  return buildStandinImage({
    tag: `${opts.prefix ?? 'berth-test/e2e'}-${agentTypeId}:${behaviour}${opts.contract ? '-contract' : ''}`,
    ports: m.ports.map((p) => p.container_port),
    healthPath: m.health_endpoint,
    healthPort,
    behaviour,
    dataDir: m.data_dir,
    env: opts.env,
    contract: opts.contract ? agentTypeId : undefined,
  });
}
