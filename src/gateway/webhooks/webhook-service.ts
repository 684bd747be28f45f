import { randomBytes, randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../errors.js';
import { NOTIFICATION_TYPES } from '../notifications/notification-types.js';
import type { Sealer } from '../secrets/sealer.js';
import type { DeliveryRecord, DeliveryStore } from './delivery-store.js';
import type { WebhookFields, WebhookRecord, WebhookStore } from './webhook-store.js';
import { MASKED_SECRET, type DeliveryView, type WebhookCreated, type WebhookRequest, type WebhookView } from './webhook-types.js';
import { UUID } from '../ids.js';

export interface WebhookServiceDeps {
  webhooks: Pick<WebhookStore, 'insert' | 'list' | 'find' | 'update' | 'delete'>;
  deliveries: Pick<DeliveryStore, 'list' | 'find' | 'requeue'>;
  sealer: Sealer;
  /** A delivery was made due again: send it now. */
  onRequeued(): void;
}

const DELIVERY_PAGE_DEFAULT = 20;
const DELIVERY_PAGE_MAX = 100;

function view(webhook: WebhookRecord): WebhookView {
  return {
    id: webhook.id,
    name: webhook.name,
    url: webhook.url,
    events: webhook.events,
    secret: MASKED_SECRET,
    enabled: webhook.enabled,
    created_at: webhook.createdAt.toISOString(),
    updated_at: webhook.updatedAt.toISOString(),
  };
}

function deliveryView(delivery: DeliveryRecord): DeliveryView {
  return {
    id: delivery.id,
    webhook_id: delivery.webhookId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    next_attempt_at: delivery.status === 'pending' ? delivery.nextAttemptAt.toISOString() : null,
    delivered_at: delivery.deliveredAt?.toISOString() ?? null,
    created_at: delivery.createdAt.toISOString(),
    updated_at: delivery.updatedAt.toISOString(),
  };
}

/** http or https only, and no credentials in it: the signature is what authenticates the gateway. */
function checkedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadRequestError('url must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError('url must be an http or https URL');
  if (url.username || url.password) throw new BadRequestError('url must not contain a user or password');
  return url.href;
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Outgoing webhooks, administered by admins. The signing secret is sealed at rest and shown
 * only in the create answer; views show it masked.
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  function fields(request: WebhookRequest, secretSealed: Buffer): WebhookFields {
    return {
      name: request.name,
      url: checkedUrl(request.url),
      events: request.events ?? [...NOTIFICATION_TYPES],
      secretSealed,
      enabled: request.enabled ?? true,
    };
  }

  async function find(id: string): Promise<WebhookRecord> {
    const webhook = UUID.test(id) ? await deps.webhooks.find(id) : undefined;
    if (!webhook) throw new NotFoundError('webhook not found');
    return webhook;
  }

  return {
    async create(request: WebhookRequest): Promise<WebhookCreated> {
      if (request.secret === MASKED_SECRET) {
        throw new BadRequestError(`secret "${MASKED_SECRET}" only keeps a stored secret; leave it out to have one generated`);
      }
      const secret = request.secret ?? newSecret();
      const id = randomUUID();
      await deps.webhooks.insert(id, fields(request, deps.sealer.seal(Buffer.from(secret, 'utf8'))));
      return { ...view(await find(id)), secret };
    },

    async list(): Promise<WebhookView[]> {
      return (await deps.webhooks.list()).map(view);
    },

    async get(id: string): Promise<WebhookView> {
      return view(await find(id));
    },

    /** Replaces the webhook's settings; the secret is kept when it is absent or masked. */
    async update(id: string, request: WebhookRequest): Promise<WebhookView> {
      const webhook = await find(id);
      const keepSecret = request.secret === undefined || request.secret === MASKED_SECRET;
      const secretSealed = keepSecret ? webhook.secretSealed : deps.sealer.seal(Buffer.from(request.secret!, 'utf8'));
      await deps.webhooks.update(webhook.id, fields(request, secretSealed));
      return view(await find(webhook.id));
    },

    /** Deletes the webhook with its delivery log; pending deliveries are not sent. */
    async delete(id: string): Promise<void> {
      if (!UUID.test(id) || !(await deps.webhooks.delete(id))) throw new NotFoundError('webhook not found');
    },

    async listDeliveries(id: string, page: { limit?: number; offset?: number }) {
      const webhook = await find(id);
      const limit = Math.min(Math.max(page.limit ?? DELIVERY_PAGE_DEFAULT, 1), DELIVERY_PAGE_MAX);
      const offset = page.offset ?? 0;
      const { deliveries, total } = await deps.deliveries.list(webhook.id, { limit, offset });
      return { data: deliveries.map(deliveryView), total, has_next_page: offset + deliveries.length < total };
    },

    /** Sends a delivered or failed delivery once more (its attempts keep counting). */
    async retryDelivery(id: string, deliveryId: string): Promise<DeliveryView> {
      const webhook = await find(id);
      const delivery = UUID.test(deliveryId) ? await deps.deliveries.find(webhook.id, deliveryId) : undefined;
      if (!delivery) throw new NotFoundError('delivery not found');
      if (!(await deps.deliveries.requeue(webhook.id, delivery.id))) throw new ConflictError('the delivery is still pending');
      deps.onRequeued();
      return deliveryView((await deps.deliveries.find(webhook.id, delivery.id))!);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
