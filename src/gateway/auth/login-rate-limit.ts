import { TooManyRequestsError } from '../../errors.js';

/**
 * Failed logins, counted per key (an account, a client address) over a sliding window. Once a
 * key has `maxFailures` failures inside the window, attempts on it are refused without
 * checking the password until the oldest of those failures leaves the window.
 *
 * Kept in this gateway's memory: gateways sharing a store each count on their own, and a
 * restart forgets. At most `maxTrackedKeys` keys are kept; past that the key that failed
 * longest ago is forgotten first.
 */

export const LOGIN_RATE_LIMIT = { maxFailures: 5, windowMs: 15 * 60_000, maxTrackedKeys: 10_000 };

export function createLoginRateLimiter(options = LOGIN_RATE_LIMIT, now: () => number = Date.now) {
  // Failure times per key, oldest first, at most maxFailures; Map order is least recently failed first.
  const failures = new Map<string, number[]>();

  function recentFailures(key: string): number[] {
    const times = (failures.get(key) ?? []).filter((time) => time > now() - options.windowMs);
    if (times.length) failures.set(key, times);
    else failures.delete(key);
    return times;
  }

  return {
    /** Throws TooManyRequestsError if any of the keys is over its limit. */
    check(keys: string[]): void {
      let retryAfterMs = 0;
      for (const key of keys) {
        const times = recentFailures(key);
        if (times.length >= options.maxFailures) retryAfterMs = Math.max(retryAfterMs, times[0]! + options.windowMs - now());
      }
      if (retryAfterMs > 0) throw new TooManyRequestsError('too many login attempts, try again later', Math.ceil(retryAfterMs / 1000));
    },

    recordFailure(keys: string[]): void {
      for (const key of keys) {
        const times = [...recentFailures(key), now()].slice(-options.maxFailures);
        failures.delete(key);
        failures.set(key, times);
        if (failures.size > options.maxTrackedKeys) failures.delete(failures.keys().next().value!);
      }
    },

    reset(key: string): void {
      failures.delete(key);
    },
  };
}

export type LoginRateLimiter = ReturnType<typeof createLoginRateLimiter>;
