import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { PluginService } from './plugin-service.js';
import { PluginConnectionRequest, PluginConnectionView, PluginInput, PluginView } from './plugin-types.js';

const PluginParams = Type.Object({ name: Type.String() });
const PluginConnectionParams = Type.Object({ name: Type.String(), id: Type.String({ description: 'Connection id or name' }) });

export function registerPluginRoutes(app: App, plugins: PluginService): void {
  app.addSchema(PluginView);
  app.addSchema(PluginConnectionView);
  const tags = ['Plugins'];

  app.get(
    '/api/plugins',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'List Plugins', response: { 200: Type.Array(Type.Ref('Plugin')), ...errorResponses(401) } } },
    async () => plugins.list(),
  );

  app.get(
    '/api/plugins/:name',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'Get Plugin', params: PluginParams, response: { 200: Type.Ref('Plugin'), ...errorResponses(401, 404) } } },
    async (request) => plugins.get(request.params.name),
  );

  app.post(
    '/api/plugins',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create Plugin',
        description: 'access_control: each connection lists the groups that may see and use it; other connections are hidden from non-admins.',
        body: PluginInput,
        response: { 201: Type.Ref('Plugin'), ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request, reply) => reply.status(201).send(await plugins.create(request.body)),
  );

  app.get(
    '/api/plugins/:name/conn/:id',
    {
      config: { role: 'adminAndAuditor' },
      schema: { tags, summary: 'Get Plugin Connection', params: PluginConnectionParams, response: { 200: Type.Ref('PluginConnection'), ...errorResponses(401, 403, 404) } },
    },
    async (request) => plugins.getConnection(request.params.name, request.params.id),
  );

  app.put(
    '/api/plugins/:name/conn/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Upsert Plugin Connection',
        params: PluginConnectionParams,
        body: PluginConnectionRequest,
        response: { 200: Type.Ref('PluginConnection'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => plugins.upsertConnection(request.params.name, request.params.id, request.body.config),
  );

  app.delete(
    '/api/plugins/:name/conn/:id',
    {
      config: { role: 'admin' },
      schema: { tags, summary: 'Delete Plugin Connection', params: PluginConnectionParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
    },
    async (request, reply) => {
      await plugins.deleteConnection(request.params.name, request.params.id);
      return reply.status(204).send(null);
    },
  );
}
