/** The one-pass `place()`: a choice from a plain list, O(n), no sort (the index's oracle). */
import { explainNoFit } from './explain';
import { eligible, validateRequest } from './fit';
import { PlacementStrategy, dominantShare, hasImage, preferredWithImage, strategyOrder } from './strategies';
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
  const image = request.image;
  let best: NodeCapacity | undefined;
  let bestShare = 0;
  let bestHas = false;
  let bestAvoided: NodeCapacity | undefined;
  let bestAvoidedShare = 0;
  let bestAvoidedHas = false;
  for (const n of nodes) {
    if (!eligible(n, request, exclude)) continue;
    if (n.id === prefer) return { ok: true, nodeId: n.id, why: 'affinity' };
    const share = dominantShare(n);
    const has = hasImage(n, image);
    if (avoid !== undefined && avoid.length > 0 && avoid.includes(n.id)) {
      if (!bestAvoided || preferredWithImage(order, share, has, n.id, bestAvoidedShare, bestAvoidedHas, bestAvoided.id)) {
        bestAvoided = n;
        bestAvoidedShare = share;
        bestAvoidedHas = has;
      }
    } else if (!best || preferredWithImage(order, share, has, n.id, bestShare, bestHas, best.id)) {
      best = n;
      bestShare = share;
      bestHas = has;
    }
  }
  if (best) return { ok: true, nodeId: best.id, why: 'strategy' };
  if (bestAvoided) return { ok: true, nodeId: bestAvoided.id, why: 'avoided-fallback' };
  return explainNoFit(request, nodes, exclude);
}
