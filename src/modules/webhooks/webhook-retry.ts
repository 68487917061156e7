/**
 * When to try a failed webhook delivery again, and when to give up on an endpoint.
 *
 * Schedule: Standard Webhooks' recommended one (immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h) plus one more 10 h step. With ±20% jitter the eight-attempt schedule could end
 * after 0.8 × 27 h 35 min ≈ 22 h, short of the promised 24 hours; the ninth attempt makes the
 * shortest possible span 0.8 × 37 h 35 min ≈ 30 h 4 min (nominal 37 h 35 min 5 s, longest
 * ≈ 45 h 6 min).
 *
 *   attempt:  1     2    3      4       5    6    7     8     9
 *   delay:    0     5 s  5 min  30 min  2 h  5 h  10 h  10 h  10 h   (before that attempt)
 *
 * Jitter spreads retries of many messages that failed together (a receiver outage) so they
 * do not all return in the same second.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Delay before attempt k+1 is RETRY_DELAYS_MS[k]; the first attempt goes out immediately. */
export const RETRY_DELAYS_MS: readonly number[] = Object.freeze([
  0,
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
  10 * HOUR,
]);

/** Total attempts per message, the first included: 9. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length;

/** Each delay is scaled by a random factor in [1 - JITTER, 1 + JITTER]. */
export const RETRY_JITTER = 0.2;

/** A receiver's Retry-After is honoured up to this long; beyond it we keep our own schedule's cap. */
export const MAX_RETRY_AFTER_MS = DAY;

/** An endpoint failing without a single success for longer than this is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * DAY;

/** Sum of the nominal delays: from the first attempt to the last, 37 h 35 min 5 s. */
export const NOMINAL_RETRY_SPAN_MS = RETRY_DELAYS_MS.reduce((sum, delay) => sum + delay, 0);

/**
 * Milliseconds to wait before the next attempt, after `attemptNumber` attempts have failed
 * (1 after the first). Returns null when the schedule is exhausted and the message is given up.
 * A Retry-After (from a 429 or 503) is honoured when it asks for longer than the schedule,
 * capped at MAX_RETRY_AFTER_MS. `random` returns a number in [0, 1), replaceable in tests.
 */
export function nextAttemptDelayMs(
  attemptNumber: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number | null {
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(`attemptNumber must be a positive integer, got ${attemptNumber}`);
  }
  const base = RETRY_DELAYS_MS[attemptNumber];
  if (base === undefined) return null;
  const factor = 1 + (random() * 2 - 1) * RETRY_JITTER;
  const scheduled = Math.round(base * factor);
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) {
    const requested = Math.min(retryAfterSeconds * SECOND, MAX_RETRY_AFTER_MS);
    if (requested > scheduled) return requested;
  }
  return scheduled;
}

/**
 * True when an endpoint has failed continuously for more than five days: `firstFailureAt` is
 * the first failure since its last success (null or undefined while it is healthy).
 */
export function shouldDisableEndpoint(firstFailureAt: Date | null | undefined, now: Date = new Date()): boolean {
  if (firstFailureAt === null || firstFailureAt === undefined) return false;
  return now.getTime() - firstFailureAt.getTime() > DISABLE_AFTER_FAILING_MS;
}

/** What to do with a message after one attempt. */
export type NextStep =
  | { action: 'delivered' }
  | { action: 'retry'; delayMs: number; at: Date }
  | { action: 'give_up'; reason: 'exhausted' | 'gone' };

/**
 * The message's next step after attempt `attemptNumber` (1-based) ended with `outcome`.
 * A 410 Gone stops retrying at once: the receiver said the endpoint no longer exists.
 */
export function planNextStep(input: {
  outcome: 'success' | 'failure' | 'gone';
  attemptNumber: number;
  retryAfterSeconds?: number;
  now: Date;
  random?: () => number;
}): NextStep {
  if (input.outcome === 'success') return { action: 'delivered' };
  if (input.outcome === 'gone') return { action: 'give_up', reason: 'gone' };
  const delayMs = nextAttemptDelayMs(input.attemptNumber, input.retryAfterSeconds, input.random);
  if (delayMs === null) return { action: 'give_up', reason: 'exhausted' };
  return { action: 'retry', delayMs, at: new Date(input.now.getTime() + delayMs) };
}

export interface EndpointHealth {
  /** First failure since the last success; null while healthy. Store it on the endpoint. */
  firstFailureAt: Date | null;
  disable: boolean;
  reason?: 'gone' | 'failing';
}

/**
 * The endpoint's health after an attempt: a success clears the failure streak, a failure
 * starts it (or keeps its start), and the endpoint is disabled on 410 Gone or after more than
 * five days of failures without a success.
 */
export function endpointHealthAfter(input: {
  outcome: 'success' | 'failure' | 'gone';
  firstFailureAt: Date | null;
  now: Date;
}): EndpointHealth {
  if (input.outcome === 'success') return { firstFailureAt: null, disable: false };
  const firstFailureAt = input.firstFailureAt ?? input.now;
  if (input.outcome === 'gone') return { firstFailureAt, disable: true, reason: 'gone' };
  if (shouldDisableEndpoint(firstFailureAt, input.now)) return { firstFailureAt, disable: true, reason: 'failing' };
  return { firstFailureAt, disable: false };
}
