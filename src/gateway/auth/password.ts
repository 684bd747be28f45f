import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { UnprocessableError } from '../../errors.js';

/**
 * Password hashes: scrypt, stored as `scrypt$N$r$p$salt$hash` (salt and hash in base64) so the
 * cost can be raised later while hashes made with the old cost still verify.
 */

interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

const COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 64;
const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/**
 * Each hash holds 32 MiB and a libuv thread for tens of milliseconds; file I/O shares those
 * threads, so a burst of logins must not take all of them.
 */
const MAX_CONCURRENT_HASHES = 2;
let runningHashes = 0;
const waitingHashes: Array<() => void> = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (runningHashes < MAX_CONCURRENT_HASHES) runningHashes++;
  else await new Promise<void>((resolve) => waitingHashes.push(resolve));
  try {
    return await work();
  } finally {
    // The slot passes straight to the next waiter, if any.
    const next = waitingHashes.shift();
    if (next) next();
    else runningHashes--;
  }
}

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  return withHashSlot(
    () =>
      new Promise((resolve, reject) => {
        // scrypt needs 128 * N * r bytes; Node's default ceiling (32 MiB) is just too small for N = 2^15.
        const maxmem = 256 * cost.N * cost.r;
        scrypt(password, salt, length, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
      }),
  );
}

function format({ cost, salt, hash }: ParsedHash): string {
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function parse(stored: string): ParsedHash | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  return salt.length && hash.length ? { cost: { N, r, p }, salt, hash } : undefined;
}

/** Checked against when there is no stored hash, so that case costs the same time as a real one. */
const DUMMY_HASH: ParsedHash = { cost: COST, salt: randomBytes(SALT_BYTES), hash: randomBytes(KEY_BYTES) };

/** Refuses passwords too short to resist guessing, or long enough to be an abuse (422). */
export function checkPasswordRules(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw new UnprocessableError(`password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw new UnprocessableError(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return format({ cost: COST, salt, hash: await derive(password, salt, COST, KEY_BYTES) });
}

/**
 * Whether `password` matches `stored`. Without a usable stored hash it still does the same
 * key derivation (against a dummy) and answers false, so a missing account takes as long as a
 * wrong password.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = stored ? parse(stored) : undefined;
  const target = parsed ?? DUMMY_HASH;
  const derived = await derive(password, target.salt, target.cost, target.hash.length);
  return timingSafeEqual(derived, target.hash) && parsed !== undefined;
}
