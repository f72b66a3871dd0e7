/** Why nothing fits, in words a customer can read: `explainNoFit`, `placementError`, the formatters. */
import { CapacityExhaustedError } from '@berth/domain';
import { fitsResources, matchesConstraints } from './fit';
import {
  GiB,
  MiB,
  NANO,
  NodeCapacity,
  PlacementFailure,
  PlacementFailureCode,
  PlacementRequest,
} from './types';

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${Number((bytes / GiB).toFixed(1))} GiB`;
  return `${Math.floor(bytes / MiB)} MiB`;
}

export function formatCpus(nanoCpus: number): string {
  return `${Number((nanoCpus / NANO).toFixed(2))} CPU`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Why nothing fits, in words a customer can read. O(n); only called when placement fails.
 * Assumes no node in `nodes` is eligible for `request` (the caller has just checked).
 */
export function explainNoFit(
  request: PlacementRequest,
  nodes: Iterable<NodeCapacity>,
  exclude?: ReadonlySet<string>,
): PlacementFailure {
  let total = 0;
  let down = 0;
  let draining = 0;
  let up = 0;
  let matching = 0;
  let excludedFit = 0;
  let memFit = 0;
  let cpuFit = 0;
  let portFit = 0;
  let maxMem = -1;
  let maxMemCount = 0;
  let maxCpu = -1;
  let maxCpuCount = 0;
  let maxPorts = -1;
  let maxPortsCount = 0;
  for (const n of nodes) {
    total++;
    if (n.status === 'down') down++;
    else if (n.status === 'draining') draining++;
    if (n.status !== 'up') continue;
    up++;
    if (!matchesConstraints(n, request.constraints)) continue;
    matching++;
    if (exclude?.has(n.id) && fitsResources(n, request.memoryBytes, request.nanoCpus, request.ports))
      excludedFit++;
    const mem = n.allocatableMemoryBytes - n.allocatedMemoryBytes;
    const cpu = n.allocatableNanoCpus - n.allocatedNanoCpus;
    if (mem >= request.memoryBytes) memFit++;
    if (cpu >= request.nanoCpus) cpuFit++;
    if (n.freePorts >= request.ports) portFit++;
    if (mem > maxMem) [maxMem, maxMemCount] = [mem, 1];
    else if (mem === maxMem) maxMemCount++;
    if (cpu > maxCpu) [maxCpu, maxCpuCount] = [cpu, 1];
    else if (cpu === maxCpu) maxCpuCount++;
    if (n.freePorts > maxPorts) [maxPorts, maxPortsCount] = [n.freePorts, 1];
    else if (n.freePorts === maxPorts) maxPortsCount++;
  }
  const fail = (code: PlacementFailureCode, message: string): PlacementFailure => ({
    ok: false,
    code,
    message,
  });
  if (total === 0) return fail('NO_NODES', 'no node is enrolled yet');
  if (up === 0) {
    const parts = [down > 0 ? `${down} down` : '', draining > 0 ? `${draining} draining` : ''].filter(
      Boolean,
    );
    return fail('NO_NODE_UP', `no node is up (${parts.join(', ')})`);
  }
  if (matching === 0) {
    const wanted = Object.entries(request.constraints ?? {}).map(([k, v]) => `${k}=${v}`);
    return fail(
      'CONSTRAINTS',
      `no node that is up has the labels ${wanted.join(', ')} (${plural(up, 'node')} up)`,
    );
  }
  if (excludedFit > 0) {
    return fail(
      'ALL_EXCLUDED',
      `every node with room was already tried (${plural(excludedFit, 'node')}); try again shortly`,
    );
  }
  const wantMem = formatBytes(request.memoryBytes);
  const wantCpu = formatCpus(request.nanoCpus);
  const onUp = `${plural(up, 'node')} up`;
  if (memFit === 0) {
    const where = maxMemCount === 1 ? '1 node' : `${maxMemCount} nodes`;
    return fail(
      'MEMORY',
      `no node has ${wantMem} free memory; largest free is ${formatBytes(Math.max(0, maxMem))} on ${where} (${onUp})`,
    );
  }
  if (cpuFit === 0) {
    const where = maxCpuCount === 1 ? '1 node' : `${maxCpuCount} nodes`;
    return fail(
      'CPU',
      `no node has ${wantCpu} free; largest free is ${formatCpus(Math.max(0, maxCpu))} on ${where} (${onUp})`,
    );
  }
  if (portFit === 0) {
    const where = maxPortsCount === 1 ? '1 node' : `${maxPortsCount} nodes`;
    return fail(
      'PORTS',
      `no node has ${plural(request.ports, 'free port')}; most free is ${Math.max(0, maxPorts)} on ${where} (${onUp})`,
    );
  }
  return fail(
    'NO_SINGLE_NODE',
    `no single node has ${wantMem} memory, ${wantCpu} and ${plural(request.ports, 'port')} free at once ` +
      `(${memFit} have the memory, ${cpuFit} the CPU, ${portFit} the ports; ${onUp})`,
  );
}

/** For callers that want an exception (mapped to HTTP by the domain error filter). */
export function placementError(failure: PlacementFailure): CapacityExhaustedError {
  return new CapacityExhaustedError(failure.message);
}
