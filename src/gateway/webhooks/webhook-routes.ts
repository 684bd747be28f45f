import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { WebhookService } from './webhook-service.js';
import {
  DeliveryListQuery,
  DeliveryPage,
  DeliveryParams,
  DeliveryView,
  WebhookCreated,
  WebhookParams,
  WebhookRequest,
  WebhookView,
} from './webhook-types.js';

const optionalInteger = (value: string | undefined) => (value === undefined ? undefined : Number(value));

export function registerWebhookRoutes(app: App, webhooks: WebhookService): void {
  app.addSchema(WebhookView);
  app.addSchema(DeliveryView);
  const tags = ['Webhooks'];
  const WebhookRef = Type.Ref('Webhook');
  const role = 'admin' as const;

  app.post(
    '/api/webhooks',
    {
      config: { role },
      schema: {
        tags,
        summary: 'Create Webhook',
        description: 'The signing secret is in this answer only; it is stored sealed.',
        body: WebhookRequest,
        response: { 201: WebhookCreated, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => reply.status(201).send(await webhooks.create(request.body)),
  );

  app.get(
    '/api/webhooks',
    { config: { role }, schema: { tags, summary: 'List Webhooks', response: { 200: Type.Array(WebhookRef), ...errorResponses(401, 403) } } },
    async () => webhooks.list(),
  );

  app.get(
    '/api/webhooks/:id',
    { config: { role }, schema: { tags, summary: 'Get Webhook', params: WebhookParams, response: { 200: WebhookRef, ...errorResponses(401, 403, 404) } } },
    async (request) => webhooks.get(request.params.id),
  );

  app.put(
    '/api/webhooks/:id',
    {
      config: { role },
      schema: {
        tags,
        summary: 'Update Webhook',
        params: WebhookParams,
        body: WebhookRequest,
        response: { 200: WebhookRef, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => webhooks.update(request.params.id, request.body),
  );

  app.delete(
    '/api/webhooks/:id',
    { config: { role }, schema: { tags, summary: 'Delete Webhook', params: WebhookParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (request, reply) => {
      await webhooks.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/webhooks/:id/deliveries',
    {
      config: { role },
      schema: {
        tags,
        summary: 'List Webhook Deliveries',
        description: 'Newest first.',
        params: WebhookParams,
        querystring: DeliveryListQuery,
        response: { 200: DeliveryPage, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => webhooks.listDeliveries(request.params.id, { limit: optionalInteger(request.query.limit), offset: optionalInteger(request.query.offset) }),
  );

  app.post(
    '/api/webhooks/:id/deliveries/:deliveryId/retry',
    {
      config: { role },
      schema: {
        tags,
        summary: 'Retry Webhook Delivery',
        description: 'Sends a delivered or failed delivery again, now.',
        params: DeliveryParams,
        response: { 200: Type.Ref('WebhookDelivery'), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request) => webhooks.retryDelivery(request.params.id, request.params.deliveryId),
  );
}
