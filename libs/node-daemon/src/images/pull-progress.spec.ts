import { toLayerProgress } from '../runtime/docker/images';
import { ProgressThrottle, PullProgress, PullProgressAggregator } from './pull-progress';

describe('pull progress', () => {
  it('sums per-layer events (as Docker sends them) into layers and bytes done/total', () => {
    const agg = new PullProgressAggregator();
    const lines = [
      { status: 'Pulling from team/agent', id: '1.0' },
      { status: 'Already exists', progressDetail: {}, id: 'aaa' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'ccc' },
      { status: 'Waiting', progressDetail: {}, id: 'ccc' },
      { status: 'Downloading', progressDetail: { current: 400, total: 1000 }, id: 'bbb' },
      { status: 'Downloading', progressDetail: { current: 900, total: 1000 }, id: 'bbb' },
      { status: 'Verifying Checksum', progressDetail: {}, id: 'bbb' },
      { status: 'Download complete', progressDetail: {}, id: 'bbb' },
      { status: 'Downloading', progressDetail: { current: 100, total: 5000 }, id: 'ccc' },
      { status: 'Extracting', progressDetail: { current: 500, total: 1000 }, id: 'bbb' },
      { status: 'Pull complete', progressDetail: {}, id: 'bbb' },
      { status: 'Retrying in 5 seconds', progressDetail: {}, id: 'ccc' },
      { status: 'Digest: sha256:abc' },
      { status: 'Status: Downloaded newer image for team/agent:1.0' },
    ];
    const completed: string[] = [];
    const snapshots: PullProgress[] = [];
    for (const line of lines) {
      const p = toLayerProgress(line);
      if (!p) continue;
      if (agg.apply(p)) completed.push(p.layerId);
      snapshots.push(agg.snapshot());
    }
    expect(completed).toEqual(['aaa', 'bbb']);
    expect(snapshots[0]).toEqual({ layersDone: 1, layersTotal: 1, bytesDone: 0, bytesTotal: 0 });
    expect(snapshots[5]).toEqual({ layersDone: 1, layersTotal: 3, bytesDone: 900, bytesTotal: 1000 });
    // A layer whose download is verified counts in full; bytes never go past the total.
    expect(agg.snapshot()).toEqual({ layersDone: 2, layersTotal: 3, bytesDone: 1100, bytesTotal: 6000 });
  });

  it('passes on at most one event per interval, plus every layer completion, and flushes the last', () => {
    let now = 0;
    const sent: PullProgress[] = [];
    const t = new ProgressThrottle(250, (p) => sent.push(p), () => now);
    const p = (bytesDone: number, layersDone = 0): PullProgress => ({ layersDone, layersTotal: 3, bytesDone, bytesTotal: 10_000 });
    // 2 seconds of progress every 10 ms, and three layer completions.
    for (let i = 0; i < 200; i++) {
      now = i * 10;
      const done = i === 50 || i === 120 || i === 199 ? 1 : 0;
      t.offer(p(i * 50, done), done === 1);
    }
    const completions = 3;
    expect(sent.length).toBeLessThanOrEqual(2000 / 250 + 1 + completions);
    expect(sent.length).toBeGreaterThanOrEqual(8);
    expect(sent[0].bytesDone).toBe(0);
    expect(sent.filter((s) => s.layersDone === 1).length).toBe(3);
    now = 2010;
    t.offer(p(9_999));
    t.flush();
    expect(sent[sent.length - 1].bytesDone).toBe(9_999);
    const before = sent.length;
    t.flush();
    expect(sent.length).toBe(before);
  });
});
