import { describe, expect, it } from 'vitest';
import {
  DISABLE_AFTER_FAILING_MS,
  MAX_ATTEMPTS,
  MAX_RETRY_AFTER_MS,
  NOMINAL_RETRY_SPAN_MS,
  RETRY_DELAYS_MS,
  endpointHealthAfter,
  nextAttemptDelayMs,
  planNextStep,
  shouldDisableEndpoint,
} from './webhook-retry.js';

const HOUR = 3600_000;
const low = () => 0; // factor 0.8
const mid = () => 0.5; // factor 1.0
const high = () => 0.999_999_999; // factor just under 1.2

describe('retry schedule', () => {
  it('follows Standard Webhooks (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) plus one 10 h step', () => {
    expect(RETRY_DELAYS_MS).toEqual([0, 5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, 10 * HOUR]);
    expect(MAX_ATTEMPTS).toBe(9);
    expect(NOMINAL_RETRY_SPAN_MS).toBe(37 * HOUR + 35 * 60_000 + 5_000);
  });

  it('gives the nominal delay without jitter and null once the attempts are used up', () => {
    const delays = Array.from({ length: MAX_ATTEMPTS }, (_, i) => nextAttemptDelayMs(i + 1, undefined, mid));
    expect(delays).toEqual([...RETRY_DELAYS_MS.slice(1), null]);
    expect(nextAttemptDelayMs(20, undefined, mid)).toBeNull();
  });

  it('keeps jitter within ±20%', () => {
    expect(nextAttemptDelayMs(2, undefined, low)).toBe(240_000);
    expect(nextAttemptDelayMs(2, undefined, high)).toBe(360_000);
    for (let i = 0; i < 200; i += 1) {
      const delay = nextAttemptDelayMs(6, undefined) ?? 0;
      expect(delay).toBeGreaterThanOrEqual(8 * HOUR);
      expect(delay).toBeLessThanOrEqual(12 * HOUR);
    }
  });

  it('keeps retrying for at least 24 hours even with the shortest jitter', () => {
    let total = 0;
    for (let attempt = 1; ; attempt += 1) {
      const delay = nextAttemptDelayMs(attempt, undefined, low);
      if (delay === null) break;
      total += delay;
    }
    expect(total).toBeGreaterThanOrEqual(24 * HOUR);
    expect(total).toBeGreaterThan(30 * HOUR);
  });

  it('honours a longer Retry-After, capped at 24 hours, and ignores a shorter one', () => {
    expect(nextAttemptDelayMs(1, 60, mid)).toBe(60_000);
    expect(nextAttemptDelayMs(3, 60, mid)).toBe(1_800_000);
    expect(nextAttemptDelayMs(1, 7 * 24 * 3600, mid)).toBe(MAX_RETRY_AFTER_MS);
    expect(nextAttemptDelayMs(1, 0, mid)).toBe(5_000);
    expect(nextAttemptDelayMs(1, Number.NaN, mid)).toBe(5_000);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, 60, mid)).toBeNull();
  });

  it('rejects nonsense attempt numbers', () => {
    expect(() => nextAttemptDelayMs(0)).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1.5)).toThrow(RangeError);
  });
});

describe('shouldDisableEndpoint', () => {
  const now = new Date('2026-03-10T12:00:00.000Z');
  it('disables only after more than five days of continuous failure', () => {
    expect(DISABLE_AFTER_FAILING_MS).toBe(5 * 24 * HOUR);
    expect(shouldDisableEndpoint(null, now)).toBe(false);
    expect(shouldDisableEndpoint(undefined, now)).toBe(false);
    expect(shouldDisableEndpoint(new Date(now.getTime() - HOUR), now)).toBe(false);
    expect(shouldDisableEndpoint(new Date(now.getTime() - DISABLE_AFTER_FAILING_MS), now)).toBe(false);
    expect(shouldDisableEndpoint(new Date(now.getTime() - DISABLE_AFTER_FAILING_MS - 1), now)).toBe(true);
    expect(shouldDisableEndpoint(new Date('2026-01-01T00:00:00.000Z'), now)).toBe(true);
  });
});

describe('planNextStep', () => {
  const now = new Date('2026-03-10T12:00:00.000Z');
  it('stops on success and on 410 Gone', () => {
    expect(planNextStep({ outcome: 'success', attemptNumber: 1, now })).toEqual({ action: 'delivered' });
    expect(planNextStep({ outcome: 'gone', attemptNumber: 1, now })).toEqual({ action: 'give_up', reason: 'gone' });
  });

  it('schedules a retry on failure, honouring Retry-After', () => {
    expect(planNextStep({ outcome: 'failure', attemptNumber: 2, now, random: mid })).toEqual({
      action: 'retry',
      delayMs: 300_000,
      at: new Date('2026-03-10T12:05:00.000Z'),
    });
    expect(planNextStep({ outcome: 'failure', attemptNumber: 1, retryAfterSeconds: 600, now, random: mid })).toMatchObject({
      action: 'retry',
      delayMs: 600_000,
    });
  });

  it('gives up after the last attempt', () => {
    expect(planNextStep({ outcome: 'failure', attemptNumber: MAX_ATTEMPTS, now })).toEqual({
      action: 'give_up',
      reason: 'exhausted',
    });
  });
});

describe('endpointHealthAfter', () => {
  const now = new Date('2026-03-10T12:00:00.000Z');
  const daysAgo = (days: number) => new Date(now.getTime() - days * 24 * HOUR);

  it('clears the failure streak on success', () => {
    expect(endpointHealthAfter({ outcome: 'success', firstFailureAt: daysAgo(4), now })).toEqual({
      firstFailureAt: null,
      disable: false,
    });
  });

  it('starts or keeps the failure streak, disabling after five days', () => {
    expect(endpointHealthAfter({ outcome: 'failure', firstFailureAt: null, now })).toEqual({ firstFailureAt: now, disable: false });
    expect(endpointHealthAfter({ outcome: 'failure', firstFailureAt: daysAgo(4), now })).toEqual({
      firstFailureAt: daysAgo(4),
      disable: false,
    });
    expect(endpointHealthAfter({ outcome: 'failure', firstFailureAt: daysAgo(6), now })).toEqual({
      firstFailureAt: daysAgo(6),
      disable: true,
      reason: 'failing',
    });
  });

  it('disables at once on 410 Gone', () => {
    expect(endpointHealthAfter({ outcome: 'gone', firstFailureAt: null, now })).toEqual({
      firstFailureAt: now,
      disable: true,
      reason: 'gone',
    });
  });
});
