import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { WebhooksTable } from '../store/schema.js';

export interface WebhookRecord {
  id: string;
  name: string;
  url: string;
  events: string[];
  secretSealed: Buffer;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookFields = Pick<WebhookRecord, 'name' | 'url' | 'events' | 'secretSealed' | 'enabled'>;

function fromRow(row: Selectable<WebhooksTable>): WebhookRecord {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: row.events,
    secretSealed: Buffer.from(row.secret_sealed),
    enabled: row.enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function columns(fields: WebhookFields) {
  return { name: fields.name, url: fields.url, events: fields.events, secret_sealed: fields.secretSealed, enabled: fields.enabled, updated_at: new Date() };
}

/** Webhook configuration. The secret only ever comes in and goes out sealed. */
export function createWebhookStore(db: Db) {
  return {
    async insert(id: string, fields: WebhookFields): Promise<void> {
      await db.insertInto('webhooks').values({ id, ...columns(fields) }).execute();
    },

    async list(): Promise<WebhookRecord[]> {
      return (await db.selectFrom('webhooks').selectAll().orderBy('created_at').orderBy('id').execute()).map(fromRow);
    },

    async find(id: string): Promise<WebhookRecord | undefined> {
      const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async update(id: string, fields: WebhookFields): Promise<void> {
      await db.updateTable('webhooks').set(columns(fields)).where('id', '=', id).execute();
    },

    /** Deletes the webhook and its deliveries (cascade); false when there was none. */
    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
