/**
 * Placement: which node gets a slot. Pure, synchronous, no I/O (see docs/adr/0005-scheduler.md).
 *
 * Two entry points that always agree on the answer:
 * - `place(request, nodes, options)`: one pass over a list, O(n), no sort. For a one-off
 *   decision from a fresh list (and the oracle the index is tested against).
 * - `PlacementIndex`: holds the fleet in memory, applies reservations and releases, and places
 *   in O(log n) per placement in the common case (a binary heap ordered by load; see
 *   placement-index.ts).
 *
 * Order of preference: a node that fits the request and its constraints, is `up` and not in
 * `exclude`; the affinity node first if it fits; nodes in `avoidNodeIds` only if nothing else
 * fits; then by strategy:
 * - spread (default): lowest dominant share first (max of memory and CPU allocated/allocatable);
 * - binpack: highest dominant share first.
 * Equal shares are broken by node id (ascending, code-unit order), so the choice is deterministic.
 *
 * Lost races: the database reservation (allocated + x <= allocatable) can fail after we chose.
 * The caller then retries with `exclude` holding the nodes that lost, or walks `candidates()`.
 */
export {
  BASE_SLOT,
  type NodeCapacity,
  type NodeStatus,
  type PlaceOptions,
  type PlacementFailure,
  type PlacementFailureCode,
  type PlacementRequest,
  type PlacementResult,
  type SlotDemand,
} from './types';
export { PLACEMENT_STRATEGIES, dominantShare, type PlacementStrategy } from './strategies';
export { place } from './place';
export { explainNoFit, formatBytes, formatCpus, placementError } from './explain';
export { PlacementIndex, type PlacementIndexOptions } from './placement-index';
