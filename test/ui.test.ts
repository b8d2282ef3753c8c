/**
 * The operator's page of `detour serve` (`/ui`) in a real browser: Debian's chromium, driven by
 * puppeteer-core over the DevTools protocol (no browser is downloaded), against a real service and
 * real loopback origins from the lab. It saves a screenshot; `pnpm ui:screenshot` writes it to
 * docs/ui.png, the image the README shows.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { doctorReport } from '@detour/cli';
import { type Lab, startLab } from '@detour/lab';
import { type DetourServer, startServer } from '@detour/serve';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../packages/serve/test/http.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'ui-test-token';
const SCREENSHOT = resolve(process.env.UI_SCREENSHOT ?? join(tmpdir(), `detour-ui-${process.pid}.png`));
// Without the browser the test cannot run: CI installs it (.ci/system-deps.sh), so there it fails.
const missing = !existsSync(CHROMIUM) && !process.env.CI;

let lab: Lab;
let server: DetourServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

const fetchVia = (url: string) =>
  call(`${server.url}/v1/fetch?url=${encodeURIComponent(url)}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });

/** The fetches listed on the page, newest first, as the page shows them. */
const listed = () =>
  page.$$eval('#fetches > li.fetch', (items) =>
    items.map((li) => ({
      host: (li as HTMLElement).dataset.host,
      strategy: (li as HTMLElement).dataset.strategy,
      badge: li.querySelector('.badge.strategy')?.textContent,
      url: li.querySelector('.url')?.textContent,
      attempts: [...li.querySelectorAll('.attempts > li')].map((a) => a.textContent ?? ''),
    })),
  );

/** In the browser: a fetch whose masked URL contains `text` is listed. */
const shownOnPage = (text: string) =>
  [...document.querySelectorAll('#fetches > li.fetch .url')].some((u) => u.textContent?.includes(text));

beforeAll(async () => {
  if (missing) return;
  lab = await startLab();
  const policy = { allowPrivateNetwork: true, proxy: false as const, ca: lab.ca, env: {} };
  server = await startServer({
    port: 0,
    token: TOKEN,
    redetectMs: 0,
    detour: { ...policy, logLevel: 'silent' },
    doctor: async ({ url, expect }, signal) =>
      (await doctorReport(new URL(url), policy, { expect, signal, timeoutMs: 5_000 })).json,
  });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox needs user namespaces, which a root CI container does not give.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 900 });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close(1000);
  await lab?.close();
});

describe.skipIf(missing)(
  `/ui in chromium (${CHROMIUM}${missing ? ' not found: apt-get install chromium' : ''})`,
  () => {
    it('without the token shows only the prompt: no data, even after a fetch', async () => {
      await page.goto(`${server.url}/ui`);
      await page.waitForSelector('#login:not([hidden])');
      await fetchVia(`${lab.https.url}/image.png?n=before-login`);
      await new Promise((r) => setTimeout(r, 300));
      expect(await page.$eval('#main', (main) => (main as HTMLElement).hidden)).toBe(true);
      expect(await page.$$('#fetches > li')).toHaveLength(0);
      expect(await page.evaluate(() => document.body.textContent)).not.toContain(new URL(lab.https.url).host);
      // A wrong token from the fragment (the same document: no reload): refused, dropped, still no data.
      await page.goto(`${server.url}/ui#token=wrong`);
      await page.waitForFunction(() =>
        document.getElementById('login-error')?.textContent?.includes('refused'),
      );
      expect(await page.$eval('#main', (main) => (main as HTMLElement).hidden)).toBe(true);
      expect(await page.evaluate(() => sessionStorage.getItem('detour.token'))).toBeNull();
    });

    it('takes the token from the prompt (keyboard only) or the fragment, and keeps it out of the address bar', async () => {
      await page.goto(`${server.url}/ui`);
      await page.waitForSelector('#token');
      await page.focus('#token');
      await page.keyboard.type(TOKEN);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#main:not([hidden])');
      expect(await page.evaluate(() => sessionStorage.getItem('detour.token'))).toBe(TOKEN);
      await page.evaluate(() => sessionStorage.clear());

      await page.goto('about:blank'); // a fresh load of the page, with the token in its fragment
      await page.goto(`${server.url}/ui#token=${encodeURIComponent(TOKEN)}`);
      await page.waitForSelector('#main:not([hidden])');
      expect(page.url()).toBe(`${server.url}/ui`);
      expect(await page.evaluate(() => sessionStorage.getItem('detour.token'))).toBe(TOKEN);
      // The fetch made before signing in is there now (the ring buffer), and the plan with its reasons.
      expect((await listed()).map((f) => f.url)).toEqual([expect.stringContaining('n=before-login')]);
      expect(await page.$$eval('#plan > li', (items) => items.map((li) => li.textContent))).toContain(
        'direct',
      );
      expect(await page.$$('#reasons dt')).not.toHaveLength(0);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'Live.');
    });

    it('a fetch made through the API appears within a second, with its host and winning strategy', async () => {
      const url = `${lab.https.url}/image.png?n=live&rkey=SECRET`;
      const answer = await fetchVia(url);
      expect(answer.status).toBe(200);
      const done = performance.now();
      await page.waitForFunction(shownOnPage, { timeout: 1_000 }, 'n=live');
      const shownAfter = performance.now() - done;
      console.log(`fetch shown on the page ${shownAfter.toFixed(0)} ms after its response ended`);
      const [newest] = await listed();
      expect(newest).toMatchObject({
        host: new URL(lab.https.url).host,
        strategy: 'direct',
        badge: 'direct',
      });
      expect(newest!.url).toContain('rkey=***');
      expect(newest!.url).not.toContain('SECRET');
      // The rest of the plan is listed after the winner, skipped (D83).
      expect(newest!.attempts).toEqual([
        expect.stringMatching(/^direct via direct: ok \(\d+ ms\)$/),
        'tls-relaxed via direct: skipped, not needed: direct succeeded (0 ms)',
        'curl via direct: skipped, not needed: direct succeeded (0 ms)',
      ]);
    });

    it('"forget" (by keyboard) clears a learned route: the next fetch plans afresh, strict first', async () => {
      const legacy = lab.legacy.legacyCipher;
      const host = new URL(legacy.url).host;
      expect((await fetchVia(`${legacy.url}/image.png?n=learn`)).headers['x-detour-strategy']).toBe(
        'tls-relaxed',
      );
      const row = `#hosts-body tr[data-host="${host}"]`;
      await page.waitForFunction(
        (sel) => document.querySelector(`${sel} td.route`)?.textContent?.includes('tls-relaxed'),
        {},
        row,
      );
      const learned = (await listed())[0]!;
      expect(learned).toMatchObject({ host, strategy: 'tls-relaxed' });
      expect(learned.attempts[0]).toMatch(/^direct via direct: failed tls-handshake/);

      await page.focus(`${row} button.forget`);
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (sel) => document.querySelector(`${sel} td.route`)?.textContent?.startsWith('none'),
        {},
        row,
      );
      expect(await page.$eval('#status', (s) => s.textContent)).toContain(`Forgot ${host}`);

      const afresh = await fetchVia(`${legacy.url}/image.png?n=afresh`);
      expect(afresh.status).toBe(200);
      await page.waitForFunction(shownOnPage, { timeout: 1_000 }, 'n=afresh');
      const newest = (await listed())[0]!;
      expect(newest.strategy).toBe('tls-relaxed');
      expect(newest.attempts.map((a) => a.split(' ')[0])).toEqual(['direct', 'tls-relaxed', 'curl']);
      expect(newest.attempts[2]).toMatch(/: skipped, not needed: tls-relaxed succeeded /);
    });

    it('the doctor box shows a verdict and each strategy alone', async () => {
      await page.focus('#doctor-url');
      await page.keyboard.type(`${lab.legacy.legacyCipher.url}/image.png`);
      await page.keyboard.press('Enter');
      await page.waitForSelector('#doctor-out .verdict', { timeout: 20_000 });
      const verdict = await page.$eval('#doctor-out .verdict', (v) => v.textContent ?? '');
      expect(verdict.length).toBeGreaterThan(10);
      expect(verdict).toMatch(/tls-relaxed/);
      const rows = await page.$$eval('#doctor-out tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      expect(rows.some((r) => r.startsWith('direct') && r.includes('tls-handshake'))).toBe(true);
      expect(rows.some((r) => r.startsWith('tls-relaxed') && r.includes('ok'))).toBe(true);
    });

    it('labels every control, loads nothing refused by its CSP, and fits a phone screen', async () => {
      const unlabeled = await page.$$eval('input, button', (controls) =>
        controls
          .filter((c) => {
            const labels = (c as HTMLInputElement).labels;
            const named = c.getAttribute('aria-label') || (c.textContent ?? '').trim();
            return c.tagName === 'INPUT' ? !labels?.length : !named;
          })
          .map((c) => c.outerHTML),
      );
      expect(unlabeled).toEqual([]);
      expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);

      await page.setViewport({ width: 360, height: 800 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);

      // For the picture: a repeat answered from the cache (flagged fromCache), counted in the cache box.
      await fetchVia(`${lab.https.url}/image.png?n=live&rkey=SECRET`);
      await page.waitForSelector('#fetches > li.fetch:first-child .flag-fromCache', { timeout: 1_000 });
      await page.waitForFunction(() =>
        document.getElementById('cache-facts')?.textContent?.includes('Hits1'),
      );
      await page.setViewport({ width: 900, height: 1200 });
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.evaluate(() => {
        (document.activeElement as HTMLElement | null)?.blur();
        window.scrollTo(0, 0);
      });
      await page.screenshot({ path: SCREENSHOT as `${string}.png`, fullPage: true });
      console.log(`screenshot: ${SCREENSHOT}`);
      expect(existsSync(SCREENSHOT)).toBe(true);
    });
  },
);
