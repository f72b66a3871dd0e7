/** The one-pass `place()`: a choice from a plain list, O(n), no sort (the index's oracle). */
import { explainNoFit } from './explain';
import { eligible, validateRequest } from './fit';
import { PlacementStrategy, dominantShare, preferred, strategyOrder } from './strategies';
import { NodeCapacity, PlaceOptions, PlacementRequest, PlacementResult } from './types';

/**
 * Chooses a node from a list in one pass (O(n), no sort). Same answer as `PlacementIndex.place`
 * over the same nodes. `nodes` must be re-iterable (an array, not a one-shot iterator): on
 * failure it is walked again to explain why.
 */
export function place(
  request: PlacementRequest,
  nodes: Iterable<NodeCapacity>,
  options: PlaceOptions & { strategy?: PlacementStrategy } = {},
): PlacementResult {
  validateRequest(request);
  const order = strategyOrder(options.strategy ?? 'spread');
  const exclude = options.exclude;
  const prefer = request.affinity?.preferNodeId;
  const avoid = request.affinity?.avoidNodeIds;
  let best: NodeCapacity | undefined;
  let bestShare = 0;
  let bestAvoided: NodeCapacity | undefined;
  let bestAvoidedShare = 0;
  for (const n of nodes) {
    if (!eligible(n, request, exclude)) continue;
    if (n.id === prefer) return { ok: true, nodeId: n.id, why: 'affinity' };
    const share = dominantShare(n);
    if (avoid !== undefined && avoid.length > 0 && avoid.includes(n.id)) {
      if (!bestAvoided || preferred(order, share, n.id, bestAvoidedShare, bestAvoided.id)) {
        bestAvoided = n;
        bestAvoidedShare = share;
      }
    } else if (!best || preferred(order, share, n.id, bestShare, best.id)) {
      best = n;
      bestShare = share;
    }
  }
  if (best) return { ok: true, nodeId: best.id, why: 'strategy' };
  if (bestAvoided) return { ok: true, nodeId: bestAvoided.id, why: 'avoided-fallback' };
  return explainNoFit(request, nodes, exclude);
}
