/**
 * A pull's progress as the coordinator sees it: the engine's per-layer events summed into layers
 * done/total and bytes done/total, and throttled (each event becomes a database row on the
 * coordinator): at most one per interval, plus one whenever a layer completes.
 */
import type { ImageLayerProgress } from '../runtime/container-runtime';

export interface PullProgress {
  layersDone: number;
  layersTotal: number;
  /** Downloaded (compressed) bytes. */
  bytesDone: number;
  /** Known (compressed) sizes of the layers being pulled; grows as the engine learns them. */
  bytesTotal: number;
}

interface LayerState {
  current: number;
  total: number;
  done: boolean;
}

export class PullProgressAggregator {
  private readonly layers = new Map<string, LayerState>();

  /** Takes one layer's progress in; true when that layer has just completed. */
  apply(p: ImageLayerProgress): boolean {
    let l = this.layers.get(p.layerId);
    if (!l) this.layers.set(p.layerId, (l = { current: 0, total: 0, done: false }));
    if (p.present) {
      // On the node already: counts as a layer, adds no bytes.
      const completed = !l.done;
      Object.assign(l, { current: 0, total: 0, done: true });
      return completed;
    }
    if (p.totalBytes) l.total = p.totalBytes;
    if (p.phase === 'downloading' && p.currentBytes !== undefined)
      l.current = l.total ? Math.min(p.currentBytes, l.total) : p.currentBytes;
    if (p.phase === 'downloaded' || p.phase === 'done') l.current = Math.max(l.current, l.total);
    if (p.phase !== 'done' || l.done) return false;
    l.done = true;
    return true;
  }

  snapshot(): PullProgress {
    const s: PullProgress = { layersDone: 0, layersTotal: this.layers.size, bytesDone: 0, bytesTotal: 0 };
    for (const l of this.layers.values()) {
      if (l.done) s.layersDone++;
      s.bytesDone += l.current;
      s.bytesTotal += l.total;
    }
    return s;
  }
}

/** Passes progress on at most once per `intervalMs`, except when told it is urgent. */
export class ProgressThrottle {
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private pending?: PullProgress;

  constructor(
    private readonly intervalMs: number,
    private readonly emit: (p: PullProgress) => void,
    private readonly now: () => number = Date.now,
  ) {}

  offer(p: PullProgress, urgent = false): void {
    if (urgent || this.now() - this.lastAtMs >= this.intervalMs) this.send(p);
    else this.pending = p;
  }

  /** Sends what was held back, if anything. */
  flush(): void {
    if (this.pending) this.send(this.pending);
  }

  private send(p: PullProgress): void {
    this.pending = undefined;
    this.lastAtMs = this.now();
    this.emit({ ...p });
  }
}
