import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventsRepo } from '../src/modules/events/events.repo.js';
import { buildRejectedMessagePayload } from '../src/modules/webhooks/webhook-payloads.js';
import { createWebhookWorker } from '../src/modules/webhooks/webhook-worker.js';
import { createTestApp, type TestContext } from './helpers.js';
import { startReceiver, type TestReceiver } from './webhook-receiver.js';

/**
 * Settings → Notifications in Debian's Chromium (playwright-core): set the Rejected Message URL,
 * copy the secret shown once, receive a signed delivery, read the log and redeliver. Without
 * /usr/bin/chromium the test fails (never skips): run scripts/ensure-chromium.sh.
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve('test-results/dashboard');

let ctx: TestContext;
let base: string;
let browser: Browser | undefined;
let receiver: TestReceiver;
let secret = '';
let answer = 204;

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  ctx = await createTestApp({ PUBLIC_URL: '' });
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server is not listening');
  base = `http://127.0.0.1:${address.port}`;
  receiver = await startReceiver({ secrets: () => [secret], respond: () => ({ status: answer }) });
  if (!fs.existsSync(CHROMIUM)) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => {
  await browser?.close();
  await receiver?.close();
  await ctx?.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

describe('Settings → Notifications in Chromium', () => {
  it('sets the Rejected Message URL, shows the secret once, logs deliveries and redelivers', { timeout: 180_000 }, async () => {
    if (!browser) throw new Error(`Chromium is not installed at ${CHROMIUM}: run scripts/ensure-chromium.sh.`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const email = `notify-${Date.now()}@example.test`;
    await page.goto(`${base}/dashboard/sign-up`);
    await page.getByLabel('Business name').fill('Notify Co');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(`${base}/dashboard/settings/integrations`);

    // The Notifications tab, a URL box per event.
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Notifications' }).click();
    await page.waitForURL(`${base}/dashboard/settings/notifications`);
    await expect(page.getByRole('heading', { name: 'Webhook URLs' }).isVisible()).resolves.toBe(true);
    await shot(page, 'n01-notifications-empty');

    // A bad URL is refused next to its box.
    await page.getByLabel('Rejected Message').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Submit' }).click();
    await expect(page.getByText('The URL must use http or https.').isVisible()).resolves.toBe(true);
    await shot(page, 'n02-notifications-error');

    // "Scroll down to Rejected Message, paste your webhook into the URL box, and hit submit."
    await page.getByLabel('Rejected Message').fill(receiver.url);
    await page.getByRole('button', { name: 'Submit' }).click();
    secret = (await page.getByTestId('webhook-secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await shot(page, 'n03-secret-shown-once');
    await page.goto(`${base}/dashboard/settings/notifications`);
    expect(await page.content()).not.toContain(secret);
    await expect(page.getByRole('cell', { name: receiver.url, exact: true }).isVisible()).resolves.toBe(true);

    // A rejected send happens; the worker delivers it signed.
    const user = await ctx.database.db.selectFrom('users').select('account_id').where('email', '=', email).executeTakeFirstOrThrow();
    await createEventsRepo(ctx.database.db).record(user.account_id, 'rejected_message', buildRejectedMessagePayload({ code: null, message: 'Sale!', description: 'Unsubscribed' }));
    const worker = createWebhookWorker({
      db: ctx.database.db,
      secretBox: ctx.app.services.secretBox,
      log: pino({ level: 'silent' }),
      config: { ...ctx.config.webhooks, batchWindowMs: 0 },
      allowPrivateNetworks: true,
    });
    answer = 500;
    await worker.drain();
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.verifiedWith).toEqual([secret]);

    // The log shows the failed attempt and its next retry; Redeliver sends it again now.
    await page.getByRole('link', { name: `Deliveries to ${receiver.url}` }).click();
    await expect(page.getByRole('cell', { name: /^500/ }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('cell', { name: 'pending' }).isVisible()).resolves.toBe(true);
    await shot(page, 'n04-deliveries-failed');
    answer = 204;
    await page.getByRole('button', { name: `Redeliver ${receiver.requests[0]!.id}` }).click();
    await page.waitForURL(/done=redelivered/);
    await expect(page.getByText('The delivery was queued again.').isVisible()).resolves.toBe(true);
    await worker.drain();
    await page.reload();
    await expect(page.getByRole('cell', { name: 'delivered' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('cell', { name: /^204/ }).isVisible()).resolves.toBe(true);
    await shot(page, 'n05-deliveries-redelivered');
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests[1]!.id).toBe(receiver.requests[0]!.id);
    expect(receiver.requests[1]!.verifiedWith).toEqual([secret]);

    // Rotation shows the new secret once; both sign for the overlap.
    await page.goto(`${base}/dashboard/settings/notifications`);
    await page.getByRole('button', { name: `Rotate the secret of ${receiver.url}` }).click();
    const rotated = (await page.getByTestId('webhook-secret').textContent())!.trim();
    expect(rotated).not.toBe(secret);
    await shot(page, 'n06-rotated');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'n07-notifications-mobile');
    await context.close();
  });
});
