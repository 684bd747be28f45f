import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf } from '../http/app.js';
import { errorResponses, NameOrIdParams } from '../http/schemas.js';
import type { ApiKeyService } from './api-key-service.js';
import { ApiKeyCreated, ApiKeyCreateRequest, ApiKeyUpdateRequest, ApiKeyView } from './api-key-types.js';

export function registerApiKeyRoutes(app: App, apiKeys: ApiKeyService): void {
  app.addSchema(ApiKeyView);
  const tags = ['API Keys'];
  const KeyRef = Type.Ref('APIKey');

  app.post(
    '/api/api-keys',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create API Key',
        description: 'The key is in this answer only; it is stored as its SHA-256.',
        body: ApiKeyCreateRequest,
        response: { 201: ApiKeyCreated, ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await apiKeys.create(identityOf(request), request.body)),
  );

  app.get(
    '/api/api-keys',
    { config: { role: 'admin' }, schema: { tags, summary: 'List API Keys', response: { 200: Type.Array(KeyRef), ...errorResponses(401, 403) } } },
    async () => apiKeys.list(),
  );

  app.get(
    '/api/api-keys/:nameOrID',
    { config: { role: 'admin' }, schema: { tags, summary: 'Get API Key', params: NameOrIdParams, response: { 200: KeyRef, ...errorResponses(401, 403, 404) } } },
    async (request) => apiKeys.get(request.params.nameOrID),
  );

  app.put(
    '/api/api-keys/:nameOrID',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update API Key',
        params: NameOrIdParams,
        body: ApiKeyUpdateRequest,
        response: { 200: KeyRef, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => apiKeys.update(request.params.nameOrID, request.body),
  );

  app.delete(
    '/api/api-keys/:nameOrID',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Revoke API Key', params: NameOrIdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
    },
    async (request, reply) => {
      await apiKeys.revoke(identityOf(request), request.params.nameOrID);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/api-keys/:nameOrID/reactivate',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Reactivate API Key', params: NameOrIdParams, response: { 200: KeyRef, ...errorResponses(401, 403, 404, 422) } },
    },
    async (request) => apiKeys.reactivate(request.params.nameOrID),
  );
}
