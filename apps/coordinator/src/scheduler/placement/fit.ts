/** The fit rules: room for a demand, label constraints, eligibility, and what valid input is. */
import { NodeCapacity, PlacementRequest } from './types';

export function fitsResources(
  n: NodeCapacity,
  memoryBytes: number,
  nanoCpus: number,
  ports: number,
): boolean {
  return (
    n.allocatableMemoryBytes - n.allocatedMemoryBytes >= memoryBytes &&
    n.allocatableNanoCpus - n.allocatedNanoCpus >= nanoCpus &&
    n.freePorts >= ports
  );
}

export function matchesConstraints(
  n: NodeCapacity,
  constraints: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!constraints) return true;
  for (const key in constraints) {
    if (n.labels?.[key] !== constraints[key]) return false;
  }
  return true;
}

/** Up, not excluded, constraints met, room for the request. Affinity and avoid are not looked at. */
export function eligible(
  n: NodeCapacity,
  r: PlacementRequest,
  exclude: ReadonlySet<string> | undefined,
): boolean {
  return (
    n.status === 'up' &&
    !(exclude !== undefined && exclude.has(n.id)) &&
    fitsResources(n, r.memoryBytes, r.nanoCpus, r.ports) &&
    matchesConstraints(n, r.constraints)
  );
}

export function validateRequest(r: PlacementRequest): void {
  const bad = (['memoryBytes', 'nanoCpus', 'ports'] as const).filter(
    (k) => !Number.isFinite(r[k]) || r[k] < 0,
  );
  if (bad.length > 0)
    throw new RangeError(`placement request for slot ${r.slotId}: ${bad.join(', ')} must be finite and >= 0`);
}

export function validateNode(node: NodeCapacity): void {
  for (const k of [
    'allocatableMemoryBytes',
    'allocatedMemoryBytes',
    'allocatableNanoCpus',
    'allocatedNanoCpus',
    'freePorts',
  ] as const) {
    if (!Number.isFinite(node[k]) || node[k] < 0)
      throw new RangeError(`node ${node.id}: ${k} must be finite and >= 0`);
  }
}
