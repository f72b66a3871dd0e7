import { z } from 'zod';
import { ConfigError, loadConfig, port, portRange } from './load-config';

describe('loadConfig', () => {
  const schema = z.object({ PORT: port.default(8080), RANGE: portRange.prefault('20000-29999') });

  it('applies defaults', () => {
    expect(loadConfig(schema, {})).toEqual({ PORT: 8080, RANGE: { from: 20000, to: 29999 } });
  });

  it('names the bad variable and its value', () => {
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { PORT: 'eighty' })).toThrow(/PORT: .*"eighty"/);
    expect(() => loadConfig(schema, { RANGE: '300-200' })).toThrow(/RANGE: must be an ascending range/);
  });
});
