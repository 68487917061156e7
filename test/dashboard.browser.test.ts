import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from './helpers.js';

/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core. Without
 * /usr/bin/chromium this test fails (it never skips): run scripts/ensure-chromium.sh.
 * Screenshots go to test-results/dashboard/ (gitignored).
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve('test-results/dashboard');

let ctx: TestContext;
let base: string;
let launched: Browser | undefined;
const MISSING = `Chromium is not installed at ${CHROMIUM}. Install it with scripts/ensure-chromium.sh (apt-get install chromium); the dashboard browser test cannot run without it.`;

/** Every test starts here, so a missing Chromium fails each test with this message (never a skip). */
function requireBrowser(): Browser {
  if (!launched) throw new Error(MISSING);
  return launched;
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  ctx = await createTestApp({ PUBLIC_URL: '' });
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server is not listening');
  base = `http://127.0.0.1:${address.port}`;
  if (!fs.existsSync(CHROMIUM)) return;
  launched = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await launched?.close();
  await ctx?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const bearer = (token: string) => fetch(`${base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${token}` } });

async function signUp(page: Page, name: string, email: string) {
  await page.getByLabel('Business name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
}

describe('dashboard in Chromium', () => {
  it('signs up, creates an application and a token, grants consent and revokes', { timeout: 180_000 }, async () => {
    const browser = requireBrowser();
    const stamp = Date.now();
    const developer = await browser.newContext();
    const dev = await developer.newPage();

    // Sign up.
    await dev.goto(`${base}/dashboard/sign-up`);
    await shot(dev, '01-sign-up');
    await signUp(dev, 'Developer Co', `dev-${stamp}@example.test`);
    await dev.waitForURL(`${base}/dashboard/settings/integrations`);
    await expect(dev.getByRole('heading', { name: 'Applications' }).isVisible()).resolves.toBe(true);
    const cookies = await developer.cookies();
    const session = cookies.find((c) => c.name === 'shortcode_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    // Create an application: the secret is shown once.
    await dev.getByRole('link', { name: 'Create new application' }).click();
    await dev.getByLabel('Application name').fill('Browser CRM');
    await dev.getByLabel('Redirect URLs').fill(`${base}/callback`);
    await dev.getByRole('button', { name: 'Create Application' }).click();
    const clientId = (await dev.getByTestId('client-id').textContent())!.trim();
    const clientSecret = (await dev.getByTestId('client-secret').textContent())!.trim();
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await shot(dev, '02-application-created');
    await dev.getByRole('link', { name: 'Done' }).click();
    await expect(dev.getByText(clientId).isVisible()).resolves.toBe(true);
    expect(await dev.content()).not.toContain(clientSecret);

    // Create a personal access token: shown once, in a dialog.
    await dev.getByRole('link', { name: 'Create New Token' }).click();
    await dev.getByLabel('Name').fill('Reporting script');
    await dev.locator('input[name="scopes"][value="carriers.view"]').check();
    await dev.locator('input[name="scopes"][value="contacts.view"]').check();
    await dev.getByRole('button', { name: 'Create' }).click();
    const dialog = dev.getByRole('dialog');
    await expect(dialog.isVisible()).resolves.toBe(true);
    const pat = (await dev.getByTestId('new-token').textContent())!.trim();
    expect(pat).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await shot(dev, '03-token-dialog');
    await dev.getByRole('button', { name: 'I have copied it' }).click();
    await expect(dialog.isVisible()).resolves.toBe(false);
    expect((await bearer(pat)).status).toBe(200);
    await dev.goto(`${base}/dashboard/settings/integrations`);
    await expect(dev.getByRole('cell', { name: 'Reporting script', exact: true }).isVisible()).resolves.toBe(true);
    expect(await dev.content()).not.toContain(pat);
    await dev.setViewportSize({ width: 390, height: 844 });
    await shot(dev, '04-integrations-mobile');
    await dev.setViewportSize({ width: 1280, height: 800 });

    // A customer of the application grants consent (signing up on the way), with PKCE.
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');
    const authorize = `${base}/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: `${base}/callback`,
      scope: 'carriers.view contacts.view',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const customerContext = await browser.newContext();
    const customer = await customerContext.newPage();
    await customer.goto(authorize);
    expect(customer.url()).toMatch(/\/dashboard\/sign-in\?next=/);
    await shot(customer, '05-sign-in-for-consent');
    await customer.getByRole('link', { name: 'Create an account' }).click();
    await signUp(customer, 'Customer Co', `customer-${stamp}@example.test`);
    await customer.waitForURL(/\/oauth\/authorize\?/);
    await expect(customer.getByRole('heading', { name: /Browser CRM.*wants to access your Shortcode account/ }).isVisible()).resolves.toBe(true);
    await expect(customer.getByText('See mobile carriers').isVisible()).resolves.toBe(true);
    await expect(customer.getByText('See your contacts').isVisible()).resolves.toBe(true);
    await shot(customer, '06-consent');
    await customer.getByRole('button', { name: 'Allow' }).click();
    await customer.waitForURL(/\/callback\?/);
    const callback = new URL(customer.url());
    expect(callback.searchParams.get('state')).toBe(state);
    const code = callback.searchParams.get('code')!;
    expect(code).toHaveLength(27);

    // The application exchanges the code and calls the API.
    const tokenResponse = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: `${base}/callback`, code_verifier: verifier }),
    });
    expect(tokenResponse.status).toBe(200);
    const accessToken = ((await tokenResponse.json()) as { access_token: string }).access_token;
    expect((await bearer(accessToken)).status).toBe(200);

    // The customer sees the connected application and revokes it.
    await customer.goto(`${base}/dashboard/settings/connected-apps`);
    await expect(customer.getByRole('cell', { name: 'Browser CRM', exact: true }).isVisible()).resolves.toBe(true);
    await shot(customer, '07-connected-apps');
    await customer.getByRole('button', { name: 'Revoke access for Browser CRM' }).click();
    await customer.waitForURL(/done=revoked/);
    await expect(customer.getByText('No applications are connected.').isVisible()).resolves.toBe(true);
    await shot(customer, '08-connected-apps-revoked');
    expect((await bearer(accessToken)).status).toBe(401);

    // The developer revokes the personal token, then signs out.
    await dev.goto(`${base}/dashboard/settings/integrations`);
    await dev.getByRole('button', { name: 'Revoke Reporting script' }).click();
    await dev.waitForURL(/done=token-revoked/);
    await shot(dev, '09-token-revoked');
    expect((await bearer(pat)).status).toBe(401);
    await dev.getByRole('button', { name: 'Sign out' }).click();
    await dev.waitForURL(`${base}/dashboard/sign-in`);
    await dev.goto(`${base}/dashboard/settings/integrations`);
    expect(dev.url()).toMatch(/\/dashboard\/sign-in\?next=/);

    // Password change through the form.
    await customer.goto(`${base}/dashboard/settings/password`);
    await customer.getByLabel('Current password').fill('a long enough password');
    await customer.getByLabel('New password', { exact: true }).fill('an even longer password');
    await customer.getByLabel('Confirm the new password').fill('an even longer password');
    await customer.getByRole('button', { name: 'Change password' }).click();
    await expect(customer.getByText('Your password was changed.').isVisible()).resolves.toBe(true);
    await shot(customer, '10-password-changed');

    await developer.close();
    await customerContext.close();
    expect(fs.readdirSync(SHOTS).filter((f) => f.endsWith('.png')).length).toBeGreaterThanOrEqual(10);
  });

  it('shows a wrong sign-in as one generic message', { timeout: 60_000 }, async () => {
    const context = await requireBrowser().newContext();
    const page = await context.newPage();
    await page.goto(`${base}/dashboard/sign-in`);
    await page.getByLabel('Email').fill('nobody@example.test');
    await page.getByLabel('Password').fill('whatever it is');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The email or password is incorrect.');
    await shot(page, '11-sign-in-error');
    await context.close();
  });
});
