import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observe, observerCount } from '../src/lib/observe.js';
import { createTestApp, type TestContext } from './helpers.js';

describe('metrics reported by the services', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestApp();
  });
  afterAll(() => ctx.close());

  const scrape = async () => (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;

  it('counts messages by status and delivery code, credits, webhook attempts, and shows the SMPP window', async () => {
    observe.messageStatus('delivered', 100, 3);
    observe.messageStatus('failed', '107');
    observe.messageStatus('queued');
    observe.creditsSpent(5);
    observe.creditsSpent(-2);
    observe.webhookAttempt('delivered');
    observe.webhookAttempt('timeout');
    observe.smppWindow('smsc-1', 7, 10);
    const body = await scrape();
    expect(body).toMatch(/shortcode_messages_total\{status="delivered",code="100"\} 3/);
    expect(body).toMatch(/shortcode_messages_total\{status="failed",code="107"\} 1/);
    expect(body).toMatch(/shortcode_messages_total\{status="queued",code=""\} 1/);
    expect(body).toMatch(/shortcode_credits_spent_total 5/);
    expect(body).toMatch(/shortcode_credits_refunded_total 2/);
    expect(body).toMatch(/shortcode_webhook_attempts_total\{outcome="timeout"\} 1/);
    expect(body).toMatch(/shortcode_smpp_window_in_flight\{bind="smsc-1"\} 7/);
    expect(body).toMatch(/shortcode_smpp_window_size\{bind="smsc-1"\} 10/);
  });

  it('stops counting for an app once it is closed', async () => {
    const listening = observerCount();
    const other = await createTestApp();
    expect(observerCount()).toBe(listening + 1);
    await other.close();
    expect(observerCount()).toBe(listening);
    observe.webhookAttempt('delivered');
    expect(await scrape()).toMatch(/shortcode_webhook_attempts_total\{outcome="delivered"\} 2/);
  });
});
