import { parseMemoryMiB } from '@berth/catalog';

/** The seed's pricing: one slot $29/month (512 MB / 0.25 CPU) plus add-ons. */
export interface Addons {
  memory: boolean;
  cpu: boolean;
  priority_support: boolean;
}
export type AddonName = keyof Addons;

export const PLAN = {
  id: 'base',
  monthly_price_usd: 29,
  memory_mb: 512,
  cpu_millis: 250,
  addons: {
    memory: { monthly_price_usd: 10, memory_mb: 1024, description: 'Additional memory (1 GB total)' },
    cpu: { monthly_price_usd: 10, cpu_millis: 500, description: 'Additional CPU (0.5 total)' },
    priority_support: { monthly_price_usd: 5, description: 'Priority support' },
  },
} as const;

export function slotResources(a: Addons): { memory_mb: number; cpu_millis: number } {
  return {
    memory_mb: a.memory ? PLAN.addons.memory.memory_mb : PLAN.memory_mb,
    cpu_millis: a.cpu ? PLAN.addons.cpu.cpu_millis : PLAN.cpu_millis,
  };
}

export function monthlyPrice(a: Addons): number {
  return (
    PLAN.monthly_price_usd +
    (a.memory ? PLAN.addons.memory.monthly_price_usd : 0) +
    (a.cpu ? PLAN.addons.cpu.monthly_price_usd : 0) +
    (a.priority_support ? PLAN.addons.priority_support.monthly_price_usd : 0)
  );
}

/** The resource add-ons an agent needs to fit (its minimum above the base plan). */
export function requiredAddons(agent: { min_memory: string | null; min_cpu: string | null }): AddonName[] {
  const out: AddonName[] = [];
  if (agent.min_memory && parseMemoryMiB(agent.min_memory) > PLAN.memory_mb) out.push('memory');
  if (agent.min_cpu && Math.round(Number(agent.min_cpu) * 1000) > PLAN.cpu_millis) out.push('cpu');
  return out;
}

/** Whether the agent fits what these add-ons give (refuse a slot that is sure to OOM). */
export function missingAddons(agent: { min_memory: string | null; min_cpu: string | null }, a: Addons): AddonName[] {
  const r = slotResources(a);
  const out: AddonName[] = [];
  if (agent.min_memory && parseMemoryMiB(agent.min_memory) > r.memory_mb) out.push('memory');
  if (agent.min_cpu && Math.round(Number(agent.min_cpu) * 1000) > r.cpu_millis) out.push('cpu');
  return out;
}
