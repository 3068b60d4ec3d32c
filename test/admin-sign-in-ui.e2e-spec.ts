import type { BrowserContext, Page } from 'playwright-core';
import { ChromiumSession, launchChromium } from './support/chromium';
import { ADMIN_TOKEN, BrokerProcess, freePort, randomSuffix, startBroker } from './support/broker-process';
import { request } from './support/http';
import { createTestDatabase } from './support/test-database';
import { ADMIN_CLIENT_ID, IdentityProvider } from './support/identity-provider';

/**
 * An admin signs in to Swagger UI in a real Chromium: presses Authorize, signs in at the company's
 * identity provider (oidc-provider's login page, in a popup), comes back to Swagger UI and creates
 * an integration with "Try it out", under the broker's Content-Security-Policy. The audit names
 * the person. Redis DB 14 (shared with the other admin identity suites; e2e files run one at a time).
 */
describe('signing in to Swagger UI through the identity provider', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let idp: IdentityProvider;
  let broker: BrokerProcess;
  let context: BrowserContext;
  let page: Page;
  let browser: ChromiumSession;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await IdentityProvider.start({
      redirectUris: [`${publicUrl}/docs/oauth2-redirect.html`],
      people: { jane: { email: 'jane@example.com', groups: ['token-broker-admins'] } },
    });
    db = await createTestDatabase('admin_sign_in_ui');
    broker = await startBroker({
      PORT: String(port),
      BROKER_PUBLIC_URL: publicUrl,
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/14',
      BROKER_ROLE: 'api',
      BROKER_ADMIN_OIDC_ISSUER: idp.issuer,
      BROKER_ADMIN_OIDC_CLIENT_ID: ADMIN_CLIENT_ID,
      BROKER_ADMIN_OIDC_ROLE_MAP: 'admin=token-broker-admins',
    });
    browser = await launchChromium('sign-in-ui');
    context = browser.context;
    await context.addInitScript(`
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        window.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
    `);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.stop();
    await idp?.stop();
    await db?.drop();
  });

  it('presses Authorize, signs in at the provider, returns and creates an integration', async () => {
    await page.goto(`${broker.url}/docs`, { waitUntil: 'networkidle' });
    await page.locator('.swagger-ui .info .title').waitFor();

    // Authorize → the sign-in scheme (oauth2, authorization code with PKCE, no secret asked).
    await page.locator('.swagger-ui button.authorize').first().click();
    const signIn = page.locator('.auth-container', { hasText: 'signIn' });
    await signIn.waitFor();
    // A public client: the code is exchanged from the page with a PKCE verifier and no secret.
    const tokenRequest = page.waitForRequest((sent) => sent.url() === `${idp.issuer}/token`);
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      signIn.locator('button.authorize').click(),
    ]);

    // The identity provider's own login page.
    await popup.waitForLoadState();
    expect(popup.url().startsWith(idp.issuer)).toBe(true);
    await popup.locator('input[name=login]').fill('jane');
    await popup.locator('input[name=password]').fill('any password');
    await Promise.all([popup.waitForEvent('close'), popup.locator('button[type=submit]').click()]);

    const exchange = new URLSearchParams((await tokenRequest).postData() ?? '');
    expect({
      grant: exchange.get('grant_type'),
      verifier: (exchange.get('code_verifier') ?? '').length >= 43,
      secret: exchange.get('client_secret'),
    }).toEqual({ grant: 'authorization_code', verifier: true, secret: null });

    // Back in Swagger UI, signed in.
    await signIn.locator('button', { hasText: 'Logout' }).waitFor();
    await page.locator('.dialog-ux button.close-modal').click();

    const key = `ui-${randomSuffix()}`;
    const operation = page.locator('#operations-integrations-IntegrationsController_create');
    await operation.scrollIntoViewIfNeeded();
    await operation.locator('.opblock-summary-control').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('textarea.body-param__text').fill(
      JSON.stringify({
        key,
        provider: 'oauth2',
        grantType: 'client_credentials',
        clientId: 'upstream-client',
        clientSecret: 'upstream-secret-value',
        tokenUrl: 'http://127.0.0.1:9/token',
      }),
    );
    const answer = page.waitForResponse(
      (response) =>
        response.url() === `${broker.url}/admin/integrations` && response.request().method() === 'POST',
    );
    await operation.locator('button.execute').click();
    const created = await answer;
    expect(created.status()).toBe(201);
    expect(created.request().headers().authorization).toMatch(/^Bearer ey/);

    const audit = await request(broker.url, 'GET', `/admin/audit?action=integration.create&target=${key}`, {
      token: ADMIN_TOKEN,
    });
    expect(audit.body).toEqual([
      expect.objectContaining({ actor: 'oidc:jane', actorEmail: 'jane@example.com', targetKey: key }),
    ]);
    expect(await page.evaluate<string[]>('window.cspViolations')).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
