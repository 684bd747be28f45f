import { Type, type Static } from 'typebox';
import { NOTIFICATION_TYPES } from '../notifications/notification-types.js';

/** What a webhook view shows in place of its secret; sent back in a PUT, it keeps the stored one. */
export const MASKED_SECRET = '*****';

const EventType = Type.Union(NOTIFICATION_TYPES.map((type) => Type.Literal(type)));

/** The body of a create and of a full update (PUT). */
export const WebhookRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  url: Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL the notifications are POSTed to' }),
  events: Type.Optional(Type.Array(EventType, { minItems: 1, uniqueItems: true, description: 'Notification types sent; all when absent' })),
  secret: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: `HMAC-SHA256 signing secret; generated when absent on create. In an update, absent or "${MASKED_SECRET}" keeps it.`,
    }),
  ),
  enabled: Type.Optional(Type.Boolean({ description: 'true when absent' })),
});
export type WebhookRequest = Static<typeof WebhookRequest>;

export const WebhookView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
    secret: Type.String({ description: `Always "${MASKED_SECRET}": the secret is shown only when the webhook is created` }),
    enabled: Type.Boolean(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Webhook' },
);
export type WebhookView = Static<typeof WebhookView>;

export const WebhookCreated = Type.Intersect([
  Type.Ref('Webhook'),
  Type.Object({ secret: Type.String({ description: 'The signing secret, shown only in this answer' }) }),
]);
/** The same shape as a view, but `secret` holds the secret itself. */
export type WebhookCreated = WebhookView;

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);
export type DeliveryStatus = Static<typeof DeliveryStatus>;

export const DeliveryView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    webhook_id: Type.String({ format: 'uuid' }),
    event_type: Type.String(),
    status: DeliveryStatus,
    attempts: Type.Integer(),
    last_status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last answer, if any' }),
    last_error: Type.Union([Type.String(), Type.Null()]),
    next_attempt_at: Type.Union([Type.String(), Type.Null()], { description: 'When the next send is due (pending only)' }),
    delivered_at: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'WebhookDelivery' },
);
export type DeliveryView = Static<typeof DeliveryView>;

export const WebhookParams = Type.Object({ id: Type.String() });
export const DeliveryParams = Type.Object({ id: Type.String(), deliveryId: Type.String() });

export const DeliveryListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: 'Page size, 1 to 100 (default 20)' })),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
});
export type DeliveryListQuery = Static<typeof DeliveryListQuery>;

export const DeliveryPage = Type.Object({ data: Type.Array(Type.Ref('WebhookDelivery')), total: Type.Integer(), has_next_page: Type.Boolean() });
