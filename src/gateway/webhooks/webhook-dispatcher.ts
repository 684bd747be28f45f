import type { Logger } from '../../log.js';
import { VERSION } from '../../version.js';
import type { Sealer } from '../secrets/sealer.js';
import type { ClaimedDelivery, DeliveryStore, FailedAttempt } from './delivery-store.js';
import { signedHeaders } from './webhook-signature.js';

export interface WebhookDispatcherDeps {
  deliveries: Pick<DeliveryStore, 'claimDue' | 'recordDelivered' | 'recordFailure'>;
  sealer: Pick<Sealer, 'open'>;
  log: Logger;
  /** The delay before the first retry; each further one doubles it. */
  retryBaseMs: number;
}

export const MAX_ATTEMPTS = 10;
const MAX_RETRY_DELAY_MS = 10 * 60 * 1000;
const SEND_TIMEOUT_MS = 10_000;
/** Well over a send's timeout, so a live sender never loses its rows; a dead one's come back after it. */
const LEASE_MS = 30_000;
const POLL_MS = 1000;
/** Sends at once per gateway; also bounds the bodies held in memory. */
const MAX_CONCURRENT_SENDS = 8;
const ERROR_MAX_CHARS = 500;

/** The wait after the `attempts`-th failed send: base, 2 x base, 4 x base ... capped. */
export function retryDelayMs(retryBaseMs: number, attempts: number): number {
  return Math.min(retryBaseMs * 2 ** (attempts - 1), MAX_RETRY_DELAY_MS);
}

/**
 * Sends the outbox: claims due deliveries, POSTs each signed body, records the answer. Polls
 * every second, and at once when woken (an event was queued here, or a send freed a slot while
 * more were due).
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps) {
  const stopping = new AbortController();
  const sending = new Set<Promise<void>>();
  /** The last claim took as many as it could: more may be due. */
  let backlog = false;
  let woken = false;
  let interruptSleep: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  function wake(): void {
    woken = true;
    interruptSleep?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken || stopping.signal.aborted) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        interruptSleep = undefined;
        woken = false;
        resolve();
      }
      interruptSleep = done;
    });
  }

  function describe(error: unknown): string {
    if (stopping.signal.aborted) return 'the gateway stopped before the answer';
    const failure = error as Error & { cause?: { message?: string } };
    if (failure.name === 'TimeoutError') return `no answer within ${SEND_TIMEOUT_MS / 1000} s`;
    return String(failure.cause?.message ?? failure.message).slice(0, ERROR_MAX_CHARS);
  }

  function failedAttempt(claim: ClaimedDelivery, statusCode: number | null, error: string): FailedAttempt {
    // A send cut short by a stop is due again at once, for whichever gateway runs next.
    const retryInMs = claim.attempts >= MAX_ATTEMPTS ? null : stopping.signal.aborted ? 0 : retryDelayMs(deps.retryBaseMs, claim.attempts);
    return { statusCode, error, retryInMs };
  }

  async function send(claim: ClaimedDelivery): Promise<void> {
    let failure: FailedAttempt;
    try {
      const secret = deps.sealer.open(claim.secretSealed).toString('utf8');
      const response = await fetch(claim.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': `gatehouse/${VERSION}`,
          ...signedHeaders(secret, claim.id, claim.body, new Date()),
        },
        body: claim.body,
        // A redirect is not followed (it would re-send the body elsewhere): it is a failed send.
        redirect: 'manual',
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(SEND_TIMEOUT_MS)]),
      });
      // Only the status matters; dropping the body frees the connection.
      await response.body?.cancel().catch(() => {});
      if (response.ok) {
        await deps.deliveries.recordDelivered(claim, response.status);
        return;
      }
      failure = failedAttempt(claim, response.status, `HTTP ${response.status}`);
    } catch (error) {
      failure = failedAttempt(claim, null, describe(error));
    }
    // The URL is left out: it may hold a token of the receiver's.
    const gaveUp = failure.retryInMs === null;
    deps.log.warn(
      { delivery: claim.id, webhook: claim.webhookId, attempts: claim.attempts, status: failure.statusCode, error: failure.error, gaveUp },
      'webhook delivery failed',
    );
    await deps.deliveries.recordFailure(claim, failure);
  }

  function track(claim: ClaimedDelivery): void {
    const sent = send(claim)
      // Not recorded (the store failed): the lease runs out and the delivery is sent again.
      .catch((error: unknown) => deps.log.error({ err: error, delivery: claim.id }, 'could not record a webhook delivery'))
      .finally(() => {
        sending.delete(sent);
        if (backlog) wake();
      });
    sending.add(sent);
  }

  async function run(): Promise<void> {
    while (!stopping.signal.aborted) {
      const free = MAX_CONCURRENT_SENDS - sending.size;
      if (free > 0) {
        try {
          const claimed = await deps.deliveries.claimDue(free, LEASE_MS);
          // Claimed during a stop, they are still sent: the aborted send puts them back due at once.
          for (const claim of claimed) track(claim);
          backlog = claimed.length === free;
        } catch (error) {
          deps.log.error({ err: error }, 'could not claim webhook deliveries');
        }
      }
      await sleep(POLL_MS);
    }
  }

  return {
    start(): void {
      loop ??= run();
    },

    /** Something was queued: look for due deliveries now rather than at the next poll. */
    wake,

    /** Stops claiming, cuts in-flight sends short and waits until their outcome is recorded. */
    async stop(): Promise<void> {
      stopping.abort();
      wake();
      await loop;
      await Promise.all(sending);
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
