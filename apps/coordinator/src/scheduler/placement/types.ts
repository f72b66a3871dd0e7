/** Placement's shared vocabulary: nodes, requests, results, and the smallest slot sold. */

export type NodeStatus = 'up' | 'down' | 'draining';

export interface NodeCapacity {
  id: string;
  status: NodeStatus;
  allocatableMemoryBytes: number;
  allocatedMemoryBytes: number;
  allocatableNanoCpus: number;
  allocatedNanoCpus: number;
  /** Host ports still free in the node's pool. */
  freePorts: number;
  labels?: Readonly<Record<string, string>>;
  /** Images the node is known to have (pre-pulled): only break ties of equal dominant share. */
  images?: ReadonlySet<string>;
}

export interface PlacementRequest {
  slotId: string;
  memoryBytes: number;
  nanoCpus: number;
  /** Host ports the slot publishes. */
  ports: number;
  affinity?: {
    /** Where the slot's data already is: chosen first whenever it fits. */
    preferNodeId?: string;
    /** Soft: used only when no other node fits. */
    avoidNodeIds?: readonly string[];
  };
  /** Hard: the node's labels must hold every key with this exact value. */
  constraints?: Readonly<Record<string, string>>;
  /**
   * Soft, weakest of all: among nodes of equal dominant share (and equally avoided or not), one
   * that has this image comes first. Without it the order is exactly share, then id.
   */
  image?: string;
}

export interface PlaceOptions {
  /** Hard: never chosen (e.g. nodes whose conditional reservation just lost a race). */
  exclude?: ReadonlySet<string>;
}

export type PlacementFailureCode =
  'NO_NODES' | 'NO_NODE_UP' | 'CONSTRAINTS' | 'MEMORY' | 'CPU' | 'PORTS' | 'NO_SINGLE_NODE' | 'ALL_EXCLUDED';

export type PlacementResult =
  | { ok: true; nodeId: string; why: 'affinity' | 'strategy' | 'avoided-fallback' }
  | { ok: false; code: PlacementFailureCode; message: string };

export type PlacementFailure = Extract<PlacementResult, { ok: false }>;

/** What a slot takes from a node: what reserve/release add and subtract. */
export type SlotDemand = Pick<PlacementRequest, 'memoryBytes' | 'nanoCpus' | 'ports'>;

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const NANO = 1e9;

/** The smallest slot Berth sells: 512 MiB, 0.25 CPU (the base plan). */
export const BASE_SLOT = { memoryBytes: 512 * MiB, nanoCpus: 250_000_000, ports: 0 } as const;
