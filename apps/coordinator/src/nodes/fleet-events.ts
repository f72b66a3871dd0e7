import type { Capacity, Slot } from '@berth/proto';

/**
 * What the fleet tells the deployment flow (FleetService.events).
 *
 * - node_down: the node was silent past BERTH_NODE_GRACE_SECONDS (or its stream could not be
 *   re-established in that time). Its slots are to be rescheduled. Emitted once per outage.
 * - node_up: a node that was down speaks again (its first heartbeat after the outage).
 * - node_draining: an admin drained the node; its slots are to be moved.
 * - slot_state: a SlotStateChanged from the node's WatchEvents stream, as the node sent it.
 * - heartbeat: every heartbeat, with the capacity the node reports and whether it has adopted
 *   its containers since it started (`synced`; until then its slot list is incomplete).
 */
export type FleetEvent =
  | { type: 'node_down'; nodeId: string }
  | { type: 'node_up'; nodeId: string }
  | { type: 'node_draining'; nodeId: string }
  | { type: 'slot_state'; nodeId: string; slot: Slot }
  | { type: 'heartbeat'; nodeId: string; capacity: Capacity; synced: boolean };

export type FleetEventType = FleetEvent['type'];
