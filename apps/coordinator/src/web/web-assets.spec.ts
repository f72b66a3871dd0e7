import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ASSETS, findStaticDir, loadAssets } from './web-assets';

describe('web assets', () => {
  const root = join(__dirname, '..', '..', '..', '..');

  it('finds the static folder from the sources and from a compiled dist/ path alike', () => {
    const fromSrc = findStaticDir(__dirname);
    expect(fromSrc).toBe(join(root, 'apps/coordinator/src/web/static'));
    // dist/ holds no copy of the static files: the walk goes up to the repository root.
    expect(findStaticDir(join(root, 'dist/apps/coordinator/src/web'))).toBe(fromSrc);
  });

  it('fails with a clear message where there is no repository', () => {
    expect(() => findStaticDir('/')).toThrow(/no apps\/coordinator\/src\/web\/static\/index.html/);
  });

  it('allow-lists exactly the files in the folder, each with a content type', () => {
    const dir = findStaticDir();
    expect(Object.keys(ASSETS).sort()).toEqual(readdirSync(dir).sort());
    const loaded = loadAssets(dir);
    for (const [name, type] of Object.entries(ASSETS)) {
      expect(loaded.get(name)?.body.length).toBeGreaterThan(0);
      expect(type).toMatch(/^(text\/(html|css|javascript); charset=utf-8|image\/svg\+xml)$/);
    }
  });
});
