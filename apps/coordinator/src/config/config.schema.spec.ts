import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@berth/config';
import { coordinatorConfigSchema, loadCoordinatorConfig } from './config.schema';

describe('coordinator config', () => {
  it('defaults', () => {
    const c = loadCoordinatorConfig({});
    expect(c).toMatchObject({ PORT: 8080, BERTH_DATA_DIR: './.berth', BERTH_SIGNUP_RATE_LIMIT: 20, BERTH_SIGNUP_RATE_WINDOW_SECONDS: 600, BERTH_LOGIN_FAILURES_PER_ACCOUNT: 10, BERTH_LOGIN_FAILURE_WINDOW_SECONDS: 900, BERTH_BODY_LIMIT: '64kb' });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('names the bad variable and never echoes a master key', () => {
    expect(() => loadCoordinatorConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a postgres/);
    expect(() => loadCoordinatorConfig({ BERTH_MASTER_KEY: 'dG9vc2hvcnQ=' })).toThrow(ConfigError);
    expect(() => loadCoordinatorConfig({ BERTH_MASTER_KEY: 'dG9vc2hvcnQ=' })).toThrow(/BERTH_MASTER_KEY: must be 32 bytes/);
    expect(() => loadCoordinatorConfig({ BERTH_ADMIN_TOKEN: 'short' })).toThrow(/BERTH_ADMIN_TOKEN: .*\(value hidden\)/);
    expect(() => loadCoordinatorConfig({ BERTH_MASTER_KEY: 'c2VjcmV0LWtleS1tYXRlcmlhbA==' })).not.toThrow(/c2VjcmV0/);
    expect(() => loadCoordinatorConfig({ DATABASE_URL: 'mysql://u:hunter2@h/db' })).not.toThrow(/hunter2/);
    expect(() => loadCoordinatorConfig({ BERTH_SIGNUP_RATE_LIMIT: '0' })).toThrow(/BERTH_SIGNUP_RATE_LIMIT/);
  });

  it('docs/coordinator.md documents exactly the variables the schema reads', () => {
    const md = readFileSync(join(__dirname, '../../../../docs/coordinator.md'), 'utf8');
    const table = md.slice(md.indexOf('## Configuration'), md.indexOf('## API'));
    const documented = [...table.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(coordinatorConfigSchema.shape).sort());
  });
});
