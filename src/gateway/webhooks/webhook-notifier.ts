import type { Notifier } from '../notifications/notification-types.js';
import type { DeliveryStore } from './delivery-store.js';

export interface WebhookNotifierDeps {
  deliveries: Pick<DeliveryStore, 'enqueue'>;
  /** Called once deliveries are committed, so they are sent now rather than at the next poll. */
  onQueued(): void;
}

/**
 * Notifications as webhook deliveries, through the outbox: `publish` resolves once a delivery
 * per subscribed webhook is committed, with its body fixed (`{id, type, created_at, data}`);
 * sending is the dispatcher's job, on this gateway or any other sharing the store.
 */
export function createWebhookNotifier(deps: WebhookNotifierDeps): Notifier {
  return {
    async publish(event) {
      const createdAt = new Date().toISOString();
      const body = (id: string) => JSON.stringify({ id, type: event.type, created_at: createdAt, data: event.data });
      const queued = await deps.deliveries.enqueue(event.type, body);
      if (queued > 0) deps.onQueued();
    },
  };
}
