import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createApp, type CoordinatorApp } from '../apps/coordinator/src/app';
import { createTestDatabase, type TestDatabase } from '../apps/coordinator/src/database/test-database';

/**
 * The customer web UI in Debian's Chromium against the real coordinator (PGlite or
 * DATABASE_URL, no node daemon, no Docker): marketplace, signup with field errors, My slot,
 * reload, logout. Without a node the slot stays pending and the page must say why.
 */
const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';
const GOOD_KEY = 'sk-ant-api03-webUiTestKey_0123456789abcdef';
const SCREENSHOT = join(tmpdir(), 'berth-web-ui-slot.png');

describe('web UI in Chromium', () => {
  let dir: string;
  let t: TestDatabase;
  let c: CoordinatorApp;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const urls: string[] = [];
  const email = `web${Date.now().toString(36)}@example.com`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-web-'));
    t = await createTestDatabase({ pgliteDir: join(dir, 'pgdata'), migrateNow: false });
    c = await createApp({ env: { BERTH_DATA_DIR: dir, LOG_LEVEL: 'error' }, db: t.db, logger: false });
    await c.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(c.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    // Any script error, CSP violation or console error fails the last test (4xx answers the UI
    // handles, like a 400 signup or the 404 logs of an unplaced slot, are logged by Chromium).
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => urls.push(r.url()));
  });

  afterAll(async () => {
    await browser?.close();
    await c?.close();
    await t?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const text = async (selector: string) =>
    ((await page.waitForSelector(selector, { state: 'attached' })).textContent() as Promise<string>).then(
      (s) => (s ?? '').trim(),
    );
  // The tsconfig has no DOM lib: code run in the page is given as strings or typed structurally.
  const token = () => page.evaluate<string | null>("sessionStorage.getItem('berth.token')");
  const values = (selector: string) =>
    page.$$eval(selector, (os) => os.map((o) => (o as unknown as { value: string }).value));

  it('serves the page and its allow-listed assets with security headers, nothing else', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(index.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    const js = await fetch(`${base}/assets/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${base}/assets/app.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
    for (const p of [
      '/assets/nope.js',
      '/assets/..%2Fweb.controller.ts',
      '/assets/%2e%2e%2f%2e%2e%2fapp.ts',
      '/assets/../../package.json',
      '/assets/index.html',
      '/assets/APP.JS',
    ]) {
      expect([p, (await fetch(`${base}${p}`)).status]).toEqual([p, 404]);
    }
    // The API keeps answering as before next to the UI.
    expect((await fetch(`${base}/api/marketplace/agents`)).status).toBe(200);
  });

  it('marketplace lists the five agents with prices and providers', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#agents .card');
    const names = await page.$$eval('#agents .card h3', (els) => els.map((e) => e.textContent));
    expect(names).toHaveLength(5);
    expect(names).toEqual(expect.arrayContaining(['OpenClaw', 'Myrai', 'Nanobot', 'PicoClaw', 'ZeptoClaw']));
    const openclaw = await text('[data-agent="openclaw"]');
    expect(openclaw).toMatch(/\$39/);
    expect(openclaw).toMatch(/requires memory/);
    expect(openclaw).toMatch(/Anthropic/);
    expect(await text('[data-agent="myrai"] .price')).toBe('$29/month');
    expect(await text('.stacks')).toMatch(/OpenClaw \+ Anthropic/);
    expect(await text('#byo')).toMatch(/Custom image/); // bring-your-own image, listed apart
  });

  it('choosing OpenClaw ticks and explains the memory add-on and prices it at $39', async () => {
    await page.click('text=Choose OpenClaw');
    await page.waitForSelector('#signup');
    expect(await page.inputValue('#su-agent')).toBe('openclaw');
    const memory = page.locator('#su-addon-memory');
    expect(await memory.isChecked()).toBe(true);
    expect(await memory.isDisabled()).toBe(true);
    expect(await text('label[for="su-addon-memory"] .required-note')).toMatch(
      /Required: OpenClaw needs 1024M memory/,
    );
    expect(await text('#su-price')).toBe('$39/month');
    await page.check('#su-addon-priority_support');
    expect(await text('#su-price')).toBe('$44/month');
    await page.uncheck('#su-addon-priority_support');
    // Only the providers OpenClaw supports; enum config as a select.
    const providers = await values('#su-provider option');
    expect(providers).toContain('anthropic');
    expect(await values('#su-config-thinking option')).toEqual(['', 'off', 'low', 'medium', 'high']);
  });

  it('switching to Myrai drops the add-on requirement, narrows the providers and shows the key hint', async () => {
    await page.selectOption('#su-agent', 'myrai');
    expect(await page.locator('#su-addon-memory').isDisabled()).toBe(false);
    expect(await text('#su-price')).toBe('$29/month');
    const providers = await values('#su-provider option');
    expect(providers).not.toContain('gemini');
    await page.selectOption('#su-provider', 'anthropic');
    expect(await text('#su-key-hint')).toMatch(/starts with sk-ant-/);
    expect(await page.locator('#su-telegram').isVisible()).toBe(true);
  });

  it('a bad key gets the server’s message next to the key field', async () => {
    await page.fill('#su-email', email);
    await page.fill('#su-password', 'harbour-lights-42!');
    await page.fill('#su-key', 'sk-not-an-anthropic-key-xxxxxxxxxxxx');
    await page.fill('#su-config-model', 'claude-sonnet');
    await page.click('#signup button[type=submit]');
    await page.locator('[data-error-for="llm_api_key"]').filter({ hasText: /\S/ }).waitFor();
    const err = await text('[data-field="llm_api_key"] [data-error-for="llm_api_key"]');
    expect(err).toMatch(/does not look like a Anthropic key/);
    expect(await page.getAttribute('#su-key', 'aria-invalid')).toBe('true');
    expect(await text('[data-error-for="email"]')).toBe('');
    expect(await token()).toBeNull();
  });

  it('a good signup lands on My slot showing the slot, its state and why it waits', async () => {
    await page.fill('#su-key', GOOD_KEY);
    await page.click('#signup button[type=submit]');
    await page.waitForSelector('#slot-state-badge');
    expect(page.url()).toMatch(/#\/slot$/);
    expect(await text('main h1')).toBe('My slot');
    const tok = await token();
    expect(tok).toMatch(/\S{20,}/);
    // What the API says about the slot is what the page shows.
    const me = (await (
      await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${tok}` } })
    ).json()) as { slots: { id: string; state: string; state_reason: string | null }[] };
    const slot = me.slots[0];
    expect(slot.state).toBe('pending');
    expect(slot.state_reason).toBeTruthy();
    expect(await text('#slot-state-badge')).toBe(slot.state);
    await page.locator('#slot-state-reason').filter({ hasText: slot.state_reason as string }).waitFor();
    expect(await text('#slot-state-reason')).toBe(slot.state_reason);
    const details = await text('#slot-details');
    expect(details).toMatch(/Myrai/);
    expect(details).toMatch(/Anthropic/);
    expect(details).toMatch(/512 MB memory · 0\.25 CPU/);
    expect(details).toMatch(/\$29\/month/);
    expect(details).toContain(slot.id);
    expect(details).not.toContain(GOOD_KEY);
    expect(await text('#billing')).toMatch(/\$29/);
    // The first deployment's progress, read from the SSE stream, says it waits for a node.
    await page.waitForSelector('#events li');
    expect(await text('#events')).toMatch(/waiting|capacity|node/i);
    expect(await text('#billing')).toMatch(/Container slot/);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('logs say why there are none; the compose file downloads with secrets as placeholders', async () => {
    await page.click('#slot-logs');
    await page.locator('#logs').filter({ hasNotText: 'Loading' }).waitFor();
    expect(await text('#logs')).toMatch(/no container/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#slot-compose')]);
    const body = await new Promise<string>((resolve, reject) =>
      download.createReadStream().then((s) => {
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString()));
        s.on('end', () => resolve(out));
        s.on('error', reject);
      }, reject),
    );
    expect(download.suggestedFilename()).toMatch(/^berth-slot-.*-compose\.yaml$/);
    expect(body).toMatch(/services:/);
    expect(body).not.toContain(GOOD_KEY);
    expect(await text('#action-status')).toMatch(/Compose file downloaded/);
  });

  it('a reload keeps the session', async () => {
    await page.reload();
    await page.waitForSelector('#slot-state-badge');
    expect(await text('main h1')).toBe('My slot');
    expect(await text('#slot-state-badge')).toBe('pending');
    expect(await page.isVisible('#logout')).toBe(true);
  });

  it('log out forgets and revokes the token; log in brings the slot back', async () => {
    const tok = await token();
    await page.click('#logout');
    await page.waitForSelector('#login');
    expect(await token()).toBeNull();
    expect((await fetch(`${base}/api/me`, { headers: { Authorization: `Bearer ${tok}` } })).status).toBe(401);
    await page.goto(`${base}/#/slot`);
    await page.waitForSelector('#login'); // no token: sent to log in
    await page.fill('#li-email', email);
    await page.fill('#li-password', 'wrong-password-123');
    await page.click('#login button[type=submit]');
    expect(
      await page.waitForSelector('#login .error-box:not([hidden])').then((e) => e.textContent()),
    ).toMatch(/Wrong email or password/);
    await page.fill('#li-password', 'harbour-lights-42!');
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#slot-state-badge');
    expect(await text('#slot-details')).toMatch(/Myrai/);
  });

  it('terminate asks first, then follows its deployment until the slot is terminated', async () => {
    let asked = '';
    page.once('dialog', (d) => ((asked = d.message()), void d.dismiss()));
    await page.click('#slot-terminate');
    expect(asked).toMatch(/Terminate your slot/);
    expect(await text('#slot-state-badge')).toBe('pending'); // dismissed: nothing sent
    page.once('dialog', (d) => void d.accept());
    await page.click('#slot-terminate');
    await page.locator('#slot-state-badge').filter({ hasText: /^terminated$/ }).waitFor({ timeout: 30_000 });
    // The badge may follow a slot refresh before the event stream has delivered: wait for both.
    await page.locator('#events').filter({ hasText: /terminat/i }).waitFor({ timeout: 30_000 });
    expect(await page.locator('#slot-restart').isDisabled()).toBe(true);
    expect(await page.locator('#slot-terminate').isDisabled()).toBe(true);
  });

  it('an image pull shows as one progress bar (bytes, layers in words), redrawn in place by each report', async () => {
    const at = new Date().toISOString();
    const seen = await page.evaluate<{ rows: number; bars: number; max: number; value: number; text: string }>(`(async () => {
      const { eventList } = await import('/assets/deploy-events.js');
      const ul = document.createElement('ul');
      document.body.append(ul);
      const add = eventList(ul);
      add('image', { message: 'image 127.0.0.1:5000/team/agent:1.0', at: '${at}' });
      add('image_pull', { at: '${at}', data: { layers_done: 1, layers_total: 3, bytes_done: 1000000, bytes_total: 4000000 } });
      add('image_pull', { at: '${at}', data: { layers_done: 3, layers_total: 3, bytes_done: 4000000, bytes_total: 4000000 } });
      add('image_ready', { message: 'pulled in 2 s', at: '${at}' });
      const bars = ul.querySelectorAll('progress');
      const out = { rows: ul.children.length, bars: bars.length, max: bars[0].max, value: bars[0].value, text: ul.textContent };
      ul.remove();
      return out;
    })()`);
    expect(seen).toMatchObject({ rows: 3, bars: 1, max: 4000000, value: 4000000 });
    expect(seen.text).toContain('3/3 layers, 4.0 MB of 4.0 MB');
    expect(seen.text).not.toContain('1/3 layers');
  });

  it('never put a token or key in a URL, and ran without script or CSP errors', () => {
    expect(urls.filter((u) => /token|sk-ant|Bearer/i.test(u))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
