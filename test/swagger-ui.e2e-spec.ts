import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ChromiumSession, launchChromium } from './support/chromium';
import { BrokerProcess, startBroker } from './support/broker-process';
import { createTestDatabase } from './support/test-database';

/**
 * Swagger UI as an admin sees it, in a real Chromium under the broker's Content-Security-Policy:
 * the page renders, shows the closed value sets, and the browser reports no CSP violation.
 * No skip when Chromium is missing: CI installs it, and a check that silently does not run is none.
 * Redis DB 1, shared with foundation.e2e-spec.ts (the e2e files run one at a time).
 */
describe('Swagger UI in Chromium', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: BrokerProcess;
  let context: BrowserContext;
  let page: Page;
  let browser: ChromiumSession;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('swagger_ui');
    broker = await startBroker({ DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379/1' });
    browser = await launchChromium('swagger-ui');
    context = browser.context;
    // Runs in the page before its own scripts, and is not subject to its CSP. (Browser code is
    // passed as text: the test's TypeScript has no DOM types.)
    await context.addInitScript(`
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
    `);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
    await db?.drop();
  });

  const violations = () => page.evaluate<string[]>('window.cspViolations');

  it('renders /docs under the CSP and shows the enums of environment and authVersion', async () => {
    const response = await page.goto(`${broker.url}/docs`, { waitUntil: 'networkidle' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('OAuth token broker');

    // The Schemas section: open the integration create schema and the enums it refers to.
    const model = page.locator('#model-CreateIntegrationDto');
    await model.scrollIntoViewIfNeeded();
    await model.locator('.model-box-control').first().click();
    const row = (property: string) => model.locator('tr.property-row', { hasText: property }).first();
    await row('environment').waitFor();
    for (const property of ['environment', 'authVersion', 'provider']) {
      // Open whatever Swagger UI shows folded in the row: the property, then its enum list.
      const collapsed = row(property).locator('.model-box-control[aria-expanded="false"]');
      for (let clicks = 0; clicks < 3 && (await collapsed.count()) > 0; clicks++)
        await collapsed.first().click();
    }
    const rowText = async (property: string) =>
      (await model.locator('tr.property-row', { hasText: property }).first().innerText()).replace(
        /\s+/g,
        ' ',
      );
    const environment = await rowText('environment');
    expect(environment).toContain('sandbox');
    expect(environment).toContain('production');
    const authVersion = await rowText('authVersion');
    expect(authVersion).toContain('v2');
    expect(authVersion).toContain('v1');
    expect(await rowText('provider')).toMatch(/bloomerang.*bloom.*oauth2/);

    // Kept after the run (the browser profile is not), for a person to look at.
    const screenshot = join(mkdtempSync(join(tmpdir(), 'broker-swagger-ui-shot-')), 'create-integration.png');
    await row('environment').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot });
    process.stdout.write(`Swagger UI screenshot: ${screenshot}\n`);

    expect(await violations()).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('runs "Try it out" under the CSP: Swagger UI calls the API from the page', async () => {
    const operation = page.locator('#operations-operations-HealthController_live');
    await operation.scrollIntoViewIfNeeded();
    await operation.locator('.opblock-summary-control').click();
    await operation.locator('button.try-out__btn').click();
    const answer = page.waitForResponse((response) => response.url() === `${broker.url}/health/live`);
    await operation.locator('button.execute').click();
    expect((await answer).status()).toBe(200);
    await expect(
      operation.locator('.live-responses-table tbody .response-col_status').first().innerText(),
    ).resolves.toContain('200');
    expect(await violations()).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('would see a CSP violation: an inline script is refused and reported', async () => {
    await page.evaluate(`
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.appendChild(script);
    `);
    await page.waitForFunction('window.cspViolations.length > 0', undefined, { timeout: 5_000 });
    expect(await violations()).toEqual([expect.stringMatching(/^script-src/)]);
    expect(await page.evaluate('window.inlineRan')).toBeUndefined();
  });
});
