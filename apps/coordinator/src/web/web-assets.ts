import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the UI lives inside the repository (plain files, no build step). */
export const STATIC_SUBDIR = join('apps', 'coordinator', 'src', 'web', 'static');

/**
 * The static folder, found from the repository root rather than from __dirname: jest runs
 * this file from its TypeScript source (apps/coordinator/src/web/), `npm start` from the
 * compiled dist/apps/coordinator/src/web/, and `npm run build` (tsc + tsc-alias) copies no
 * non-TS files into dist/. So walk up from __dirname to the folder holding package.json
 * whose STATIC_SUBDIR exists, and serve the files from the sources there.
 */
export function findStaticDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, STATIC_SUBDIR);
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, 'index.html'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`web UI: no ${STATIC_SUBDIR}/index.html in any parent of ${from}`);
    dir = up;
  }
}

/** The only files served; anything else is 404 (no path from the URL ever reaches the disk). */
export const ASSETS: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'forms.js': 'text/javascript; charset=utf-8',
  'deploy-events.js': 'text/javascript; charset=utf-8',
  'slot.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
});

export interface Asset {
  body: Buffer;
  contentType: string;
}

/** Reads every allow-listed file once, at boot: a missing one fails the start, not a request. */
export function loadAssets(dir: string = findStaticDir()): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(ASSETS))
    out.set(name, { body: readFileSync(join(dir, name)), contentType });
  return out;
}

/** Same-origin only; no inline script or style; nothing may frame the page. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
});
