import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { WebhookDeliveriesTable } from '../store/schema.js';

/** A delivery as the log shows it (never its webhook's secret). */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A delivery a sender holds (its lease): what to POST, where, and the sealed signing secret. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  body: string;
  attempts: number;
  url: string;
  secretSealed: Buffer;
}

/** The outcome of one failed send: what the receiver said, and when to try again (null: give up). */
export interface FailedAttempt {
  statusCode: number | null;
  error: string;
  retryInMs: number | null;
}

const LOG_COLUMNS = [
  'id', 'webhook_id', 'event_type', 'status', 'attempts', 'last_status_code', 'last_error', 'next_attempt_at', 'delivered_at', 'created_at',
  'updated_at',
] as const;

function fromRow(row: Pick<Selectable<WebhookDeliveriesTable>, (typeof LOG_COLUMNS)[number]>): DeliveryRecord {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventType: row.event_type,
    status: row.status as DeliveryRecord['status'],
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const millis = (ms: number) => sql`(${ms} * interval '1 millisecond')`;

/**
 * The outbox of webhook deliveries. Due times are compared with the database's clock, so
 * gateways sharing it agree on what is due whatever their own clocks say.
 */
export function createDeliveryStore(db: Db) {
  return {
    /**
     * One pending delivery per enabled webhook subscribed to `type`, in one transaction; `body`
     * builds each delivery's JSON from its id. Returns how many were queued.
     */
    async enqueue(type: string, body: (deliveryId: string) => string): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const webhooks = await trx
          .selectFrom('webhooks')
          .select('id')
          .where('enabled', '=', true)
          .where(sql<boolean>`${type} = ANY(events)`)
          .execute();
        if (webhooks.length === 0) return 0;
        const now = new Date();
        const rows = webhooks.map((webhook) => {
          const id = randomUUID();
          return { id, webhook_id: webhook.id, event_type: type, body: body(id), created_at: now, updated_at: now };
        });
        await trx.insertInto('webhook_deliveries').values(rows).execute();
        return rows.length;
      });
    },

    /**
     * Takes up to `limit` due deliveries of enabled webhooks for `leaseMs`, counting the attempt.
     * SKIP LOCKED lets gateways claim at the same time without waiting on or taking each other's
     * rows; a lease that runs out (its sender died) makes the row due again.
     */
    async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
      const result = await sql<{ id: string; webhook_id: string; body: string; attempts: number; url: string; secret_sealed: Uint8Array }>`
        UPDATE webhook_deliveries d
        SET locked_until = now() + ${millis(leaseMs)}, attempts = d.attempts + 1, updated_at = now()
        FROM webhooks w
        WHERE w.id = d.webhook_id AND d.id IN (
          SELECT c.id FROM webhook_deliveries c JOIN webhooks cw ON cw.id = c.webhook_id
          WHERE c.status = 'pending' AND c.next_attempt_at <= now() AND (c.locked_until IS NULL OR c.locked_until <= now()) AND cw.enabled
          ORDER BY c.next_attempt_at
          LIMIT ${limit}
          FOR UPDATE OF c SKIP LOCKED
        )
        RETURNING d.id, d.webhook_id, d.body, d.attempts, w.url, w.secret_sealed`.execute(db);
      return result.rows.map((row) => ({
        id: row.id,
        webhookId: row.webhook_id,
        body: row.body,
        attempts: row.attempts,
        url: row.url,
        secretSealed: Buffer.from(row.secret_sealed),
      }));
    },

    // The two results below apply only to the claim they answer (same attempt, still pending):
    // if the lease ran out and another sender took the row, its claim counted a new attempt.

    async recordDelivered(claim: ClaimedDelivery, statusCode: number): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({
          status: 'delivered',
          last_status_code: statusCode,
          last_error: null,
          locked_until: null,
          delivered_at: sql<Date>`now()`,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', claim.id)
        .where('attempts', '=', claim.attempts)
        .where('status', '=', 'pending')
        .execute();
    },

    async recordFailure(claim: ClaimedDelivery, failure: FailedAttempt): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({
          status: failure.retryInMs === null ? 'failed' : 'pending',
          last_status_code: failure.statusCode,
          last_error: failure.error,
          locked_until: null,
          ...(failure.retryInMs === null ? {} : { next_attempt_at: sql<Date>`now() + ${millis(failure.retryInMs)}` }),
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', claim.id)
        .where('attempts', '=', claim.attempts)
        .where('status', '=', 'pending')
        .execute();
    },

    /** A webhook's deliveries, newest first. */
    async list(webhookId: string, page: { limit: number; offset: number }): Promise<{ deliveries: DeliveryRecord[]; total: number }> {
      const [rows, count] = await Promise.all([
        db
          .selectFrom('webhook_deliveries')
          .select(LOG_COLUMNS)
          .where('webhook_id', '=', webhookId)
          .orderBy('created_at', 'desc')
          .orderBy('id')
          .limit(page.limit)
          .offset(page.offset)
          .execute(),
        db
          .selectFrom('webhook_deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('webhook_id', '=', webhookId)
          .executeTakeFirstOrThrow(),
      ]);
      return { deliveries: rows.map(fromRow), total: Number(count.n) };
    },

    async find(webhookId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
      const row = await db
        .selectFrom('webhook_deliveries')
        .select(LOG_COLUMNS)
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', webhookId)
        .executeTakeFirst();
      return row && fromRow(row);
    },

    /** Makes a delivered or failed delivery due now; false when it is still pending (or gone). */
    async requeue(webhookId: string, deliveryId: string): Promise<boolean> {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: sql<Date>`now()`, locked_until: null, updated_at: sql<Date>`now()` })
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', webhookId)
        .where('status', '!=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}

export type DeliveryStore = ReturnType<typeof createDeliveryStore>;
