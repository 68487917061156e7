import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { COUPON_TEMPLATE_SEED } from './coupon-templates.seed.js';

/**
 * The coupon page in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * on a phone-sized viewport. The screenshot is saved under test-results/ and checked: its size,
 * that it is not blank (its pixels are decoded in the browser with a canvas), and that the
 * offer, the expiry and the redeem button are on the page; then the button is pressed.
 */
const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve(import.meta.dirname, '../../../test-results');

let ctx: TestContext;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  ctx = await createTestApp();
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  fs.mkdirSync(OUT, { recursive: true });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ctx.close();
});

/** Decodes a PNG in the browser and reports its size and how much of it is not background. */
async function analyse(png: Buffer) {
  const page = await browser.newPage();
  try {
    // Runs in the page (plain JavaScript: the DOM types are not part of this project).
    const script = `(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const data = g.getImageData(0, 0, img.width, img.height).data;
      const bg = [data[0], data[1], data[2]];
      let differing = 0;
      const colors = new Set();
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 30) differing++;
        colors.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      return { width: img.width, height: img.height, differing: differing / (data.length / 4), colors: colors.size };
    })(${JSON.stringify(png.toString('base64'))})`;
    return (await page.evaluate(script)) as { width: number; height: number; differing: number; colors: number };
  } finally {
    await page.close();
  }
}

describe('the coupon page in headless Chromium', () => {
  it.each(COUPON_TEMPLATE_SEED.map((t) => [t.key, t.id]))('renders the %s design on a phone, and redeems', async (key, templateId) => {
    const owner = await createAccountWithToken(ctx.app);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: { ...owner.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({
        name: 'Browser',
        title: 'Buy one, get one free',
        description: 'On every large pizza, all week.',
        disclaimer: 'One per customer.',
        code: 'BOGO2026',
        coupon_template_id: templateId,
        expires_at: '2099-12-31T23:00:00.000Z',
      }),
    });
    expect(res.statusCode).toBe(201);
    const url = `${origin}${new URL(res.json().data.url).pathname}`;

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(await page.locator('[data-testid=title]').textContent()).toBe('Buy one, get one free');
    expect(await page.locator('[data-testid=expiry]').textContent()).toContain('December 31, 2099');
    expect(await page.locator('[data-testid=code]').textContent()).toContain('BOGO2026');
    const button = page.locator('[data-testid=redeem]');
    expect(await button.isVisible()).toBe(true);
    const box = await button.boundingBox();
    expect(box!.width).toBeGreaterThan(250); // a thumb-sized button across the phone's width

    const file = path.join(OUT, `coupon-page-${key}.png`);
    const png = await page.screenshot({ path: file, fullPage: false });
    expect(fs.statSync(file).size).toBeGreaterThan(5_000);
    const image = await analyse(png);
    expect(image).toMatchObject({ width: 780, height: 1688 });
    expect(image.differing).toBeGreaterThan(0.05);
    expect(image.colors).toBeGreaterThan(20);

    // A double click on the button: one redemption.
    // Waits for the page the user ends on, not for the first navigation: a second submit can
    // abort the first one in flight (net::ERR_ABORTED) on a slow machine.
    await button.dblclick();
    await page.locator('[data-testid=redeemed]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=redeemed]').isVisible()).toBe(true);
    expect(await page.locator('[data-testid=message]').textContent()).toBe('Coupon redeemed');
    // The same form sent again (a reload of the POST): still one.
    await page.reload();
    await context.close();
    const coupon = await ctx.app.inject({ method: 'GET', url: `/v1/coupons/${res.json().data.id}`, headers: owner.auth });
    expect(coupon.json().data.redemptions).toBe(1);
  }, 60_000);
});
