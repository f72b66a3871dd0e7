/**
 * One customer's signup through the real API, followed to the deployment's end, and the slot's
 * termination followed until its container is gone: the unit of the signup-to-healthy benches.
 */
import { randomBytes } from 'node:crypto';
import { testDocker } from '@berth/testing';
import { followDeployment, type BenchCoordinator, type ObservedEvent } from './coordinator';
import { msSince, waitFor } from './stats';

const docker = testDocker();

export interface SignupRound {
  healthyMs: number;
  succeededMs: number;
  signupMs: number;
  /** Event type -> ms from the start of the round (coordinator clock, same machine). */
  at: Record<string, number>;
  probes: number;
}

/** Signs a new customer up for `agent` (Anthropic key) and follows the deployment until it ends. */
export async function signupRound(b: BenchCoordinator, agent: string, provider = 'anthropic'): Promise<SignupRound & { token: string; slotId: string; events: ObservedEvent[] }> {
  const body = {
    email: `bench-${randomBytes(6).toString('hex')}@example.com`,
    password: `harbour-lights-${randomBytes(4).toString('hex')}!`,
    agent_type_id: agent,
    llm_provider_id: provider,
    llm_api_key: `sk-ant-api03-${randomBytes(24).toString('hex')}`,
  };
  const wall0 = Date.now();
  const t0 = process.hrtime.bigint();
  const r = await b.request('POST', '/api/signup', body);
  const signupMs = msSince(t0);
  if (r.status !== 201) throw new Error(`signup: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  const events = await followDeployment(b.base, r.body.deployment.id, r.body.token, t0);
  const last = events[events.length - 1];
  if (last?.type !== 'succeeded') throw new Error(`deployment ended ${last?.type}: ${last?.message}`);
  const healthy = events.find((e) => e.type === 'healthy');
  const at: Record<string, number> = {};
  for (const e of events) at[e.type] ??= e.atMs - wall0;
  return {
    healthyMs: (healthy ?? last).receivedMs,
    succeededMs: last.receivedMs,
    signupMs,
    at,
    probes: events.filter((e: ObservedEvent) => e.type === 'probe').length + (healthy ? 1 : 0),
    token: r.body.token,
    slotId: r.body.slot.id,
    events,
  };
}

/** DELETE /api/slot, followed to its end and until the container is gone. */
export async function terminateSlot(b: BenchCoordinator, token: string, slotId: string): Promise<void> {
  const r = await b.request('DELETE', '/api/slot', undefined, token);
  if (r.status >= 300) throw new Error(`terminate: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  await followDeployment(b.base, r.body.deployment.id, token, process.hrtime.bigint());
  await waitFor(
    async () => (await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.slot=${slotId}`] }) })).length === 0,
    60_000,
    `slot ${slotId}'s container to go`,
  );
}

