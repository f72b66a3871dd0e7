/**
 * One deployment's progress as the Deploy stream sees it: the event type, the tracker that keeps
 * history and live events, `progress()`, which every part of the slot service reports through,
 * and `followExisting()` for a Deploy of a deployment adopted after a restart.
 */
import { EventEmitter } from 'node:events';
import type { NodeSlotState } from '@berth/domain';
import type { ImageFailureReason } from '../images/image-errors';
import type { PullProgress } from '../images/pull-progress';
import type { SlotRecord } from './slot-record';
import type { SlotTable } from './slot-table';

export interface DeployProgress {
  deploymentId: string;
  slotId: string;
  phase: string;
  state: NodeSlotState;
  message: string;
  atMs: number;
  final: boolean;
  slot: SlotRecord;
  /** With phase image_pull. */
  pull?: PullProgress;
  /** On a failed final event, when the failure has a known reason (an image that could not be pulled). */
  failureReason?: ImageFailureReason;
}

/** States a deployment can end in (the state of its final event). */
const END_STATES: ReadonlySet<NodeSlotState> = new Set(['healthy', 'failed', 'stopped', 'unhealthy']);

/** One deployment's progress: history for late subscribers (a retried Deploy) plus live events. */
export class DeploymentTracker {
  readonly history: DeployProgress[] = [];
  private readonly emitter = new EventEmitter();
  done = false;
  readonly startedAtMs = Date.now();

  constructor(
    readonly deploymentId: string,
    readonly slotId: string,
  ) {
    this.emitter.setMaxListeners(0);
  }

  push(p: DeployProgress): void {
    if (this.done) return;
    if (p.final && !END_STATES.has(p.state))
      throw new Error(`final deploy event with non-final state ${p.state} (${p.phase})`);
    this.history.push(p);
    if (p.final) this.done = true;
    this.emitter.emit('progress', p);
  }

  /** Replays the history, then live events until final. Returns an unsubscribe function. */
  follow(cb: (p: DeployProgress) => void): () => void {
    for (const p of this.history) cb(p);
    if (this.done) return () => undefined;
    this.emitter.on('progress', cb);
    return () => this.emitter.off('progress', cb);
  }

  finished(): Promise<DeployProgress> {
    return new Promise((resolve) => {
      const off = this.follow((p) => {
        if (p.final) {
          queueMicrotask(() => off());
          resolve(p);
        }
      });
    });
  }
}

/** Reports one step of a deployment on its tracker (the slot's current state unless told). */
export function progress(
  t: DeploymentTracker,
  rec: SlotRecord,
  phase: string,
  message: string,
  final = false,
  state: NodeSlotState = rec.state,
  extra: Pick<DeployProgress, 'pull' | 'failureReason'> = {},
): void {
  t.push({
    ...extra,
    deploymentId: t.deploymentId,
    slotId: t.slotId,
    phase,
    state,
    message,
    atMs: Date.now(),
    final,
    slot: rec,
  });
}

/**
 * A Deploy for a deployment this daemon adopted (after a restart): reports it as it is, then
 * follows the slot until it reaches an end state (or is replaced or terminated).
 */
export function followExisting(t: DeploymentTracker, rec: SlotRecord, table: SlotTable): void {
  progress(
    t,
    rec,
    'already_exists',
    `deployment ${rec.deploymentId} already exists on this node (state ${rec.state})`,
    rec.state !== 'starting' && rec.state !== 'creating',
  );
  if (t.done) return;
  const onState = (r: SlotRecord) => {
    if (r.slotId !== rec.slotId) return;
    if (
      r.state === 'healthy' ||
      r.state === 'failed' ||
      r.state === 'stopped' ||
      r.state === 'unhealthy' ||
      table.slots.get(rec.slotId) !== rec
    ) {
      table.events.off('state', onState);
      if (r !== rec || table.slots.get(rec.slotId) !== rec)
        progress(
          t,
          rec,
          'failed',
          `deployment ${rec.deploymentId} was replaced or terminated`,
          true,
          'failed',
        );
      else progress(t, r, r.state, r.message, true);
    }
  };
  table.events.on('state', onState);
}
