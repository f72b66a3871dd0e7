/** The strategies: their names, the order each puts nodes in (by dominant share, then id). */
import { NodeCapacity } from './types';

export type PlacementStrategy = 'spread' | 'binpack';
export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = ['spread', 'binpack'];

/**
 * What a strategy decides: the order nodes are tried in. The order is on the node's load before
 * placing (its dominant share), never on the request, so the index can keep nodes sorted by it.
 * Equal shares are always broken by node id (ascending), whatever the strategy.
 */
export interface StrategyOrder {
  /** true: lowest dominant share first; false: highest first. */
  readonly lowestShareFirst: boolean;
}

/** Every strategy's order. A new strategy is a name in `PlacementStrategy` plus a row here. */
const STRATEGY_ORDERS: Readonly<Record<PlacementStrategy, StrategyOrder>> = {
  spread: { lowestShareFirst: true },
  binpack: { lowestShareFirst: false },
};

export function strategyOrder(strategy: PlacementStrategy): StrategyOrder {
  // A name outside the table (reachable only past the types and the boot-time config check)
  // has always ordered like binpack; kept so.
  return Object.hasOwn(STRATEGY_ORDERS, strategy) ? STRATEGY_ORDERS[strategy] : STRATEGY_ORDERS.binpack;
}

export function dominantShare(n: NodeCapacity): number {
  const mem = n.allocatableMemoryBytes > 0 ? n.allocatedMemoryBytes / n.allocatableMemoryBytes : 1;
  const cpu = n.allocatableNanoCpus > 0 ? n.allocatedNanoCpus / n.allocatableNanoCpus : 1;
  return mem > cpu ? mem : cpu;
}

/** Strict "a is preferred to b" for a strategy: share, then id. */
export function preferred(
  order: StrategyOrder,
  aShare: number,
  aId: string,
  bShare: number,
  bId: string,
): boolean {
  if (aShare !== bShare) return order.lowestShareFirst ? aShare < bShare : aShare > bShare;
  return aId < bId;
}

/**
 * The one preference rule with an image: "a is preferred to b" on share first, then (equal shares)
 * the node that has the request's image, then id. Without an image (both false) it is `preferred`.
 */
export function preferredWithImage(
  order: StrategyOrder,
  aShare: number,
  aHasImage: boolean,
  aId: string,
  bShare: number,
  bHasImage: boolean,
  bId: string,
): boolean {
  if (aShare !== bShare) return order.lowestShareFirst ? aShare < bShare : aShare > bShare;
  if (aHasImage !== bHasImage) return aHasImage;
  return aId < bId;
}

/** Whether a node has the image a request prefers (false when the request names none). */
export function hasImage(n: { readonly images?: ReadonlySet<string> }, image: string | undefined): boolean {
  return image !== undefined && n.images !== undefined && n.images.has(image);
}
