import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startShoutcloudServer, type ShoutcloudServer } from '../src/shoutcloud-server/shoutcloud-server.js';
import { startApp, type AppProcess } from './support/app-process.js';

// Debian's build (`apt-get install chromium`; `.ci/run` installs it). Never a downloaded browser.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = fileURLToPath(new URL('../artifacts/screenshots/docs-try-it-out.png', import.meta.url));

const INPUT = 'héllo wörld 👋';
// Worked out by hand: reversed by user-perceived characters, then capitals (é → É, ö → Ö).
const EXPECTED = '👋 DLRÖW OLLÉH';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  // eslint-disable-next-line no-console -- jest prints no reason for a skip; the README promises a visible one.
  console.warn(`SKIPPED: /docs browser test needs Chromium at ${CHROMIUM} (apt-get install chromium; .ci/run does).`);
}
const describeIfChromium = hasChromium ? describe : describe.skip;

describeIfChromium('/docs in a real browser (Chromium)', () => {
  let upstream: ShoutcloudServer;
  let app: AppProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    upstream = await startShoutcloudServer({ port: 0 });
    app = await startApp({ SHOUTCLOUD_URL: upstream.url });
    // launch() gives the browser a fresh temporary profile (user-data-dir) and removes it on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
    // Chromium logs most CSP blocks as console errors; this catches the rest. Init scripts are
    // injected by the browser itself, so the page's CSP does not block this one. (A string: it
    // runs in the page, which this Node-typed project has no DOM types for.)
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));",
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await upstream?.close();
  });

  it('runs POST /transform through "Try it out" and shows the reversed capitals', async () => {
    const response = await page.goto(`${app.url}/docs`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBeDefined();

    const operation = page.locator('.opblock.opblock-post', {
      has: page.locator('.opblock-summary-path[data-path="/transform"]'),
    });
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();

    const body = operation.locator('textarea.body-param__text');
    await body.fill(JSON.stringify({ data: INPUT }));
    await operation.getByRole('button', { name: 'Execute' }).click();

    const live = operation.locator('.live-responses-table');
    const shownBody = live.locator('.response-col_description pre.microlight').first();
    await shownBody.waitFor();
    const shownStatus = (await live.locator('tbody .response-col_status').first().innerText()).trim();

    // One screen from the request body typed in to the response shown (the whole page is ~5000 px).
    await body.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    expect(shownStatus).toBe('200');
    expect(JSON.parse(await shownBody.innerText())).toStrictEqual({ data: EXPECTED });
    expect(upstream.requests).toBe(1);
    expect(problems).toEqual([]);
  }, 60_000);
});
