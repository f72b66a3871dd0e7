import { ConfigError } from '@berth/config';
import { loadNodesConfig } from './nodes.config';

describe('loadNodesConfig', () => {
  it('defaults to a 30 s grace and 5 s heartbeats', () => {
    expect(loadNodesConfig({})).toMatchObject({ graceMs: 30_000, heartbeatMs: 5000, joinTokenTtlSeconds: 3600 });
  });

  it('accepts a short grace for tests', () => {
    expect(loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: '1.5', BERTH_NODE_HEARTBEAT_MS: '300' })).toMatchObject({ graceMs: 1500, heartbeatMs: 300 });
  });

  it('names the bad variable', () => {
    expect(() => loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: 'soon' })).toThrow(ConfigError);
    expect(() => loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: 'soon' })).toThrow(/BERTH_NODE_GRACE_SECONDS/);
    expect(() => loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: '0' })).toThrow(/BERTH_NODE_GRACE_SECONDS/);
    expect(() => loadNodesConfig({ BERTH_NODE_GRACE_SECONDS: '2', BERTH_NODE_HEARTBEAT_MS: '1500' })).toThrow(/BERTH_NODE_HEARTBEAT_MS: must be at most half/);
  });
});
