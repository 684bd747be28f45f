import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf } from '../http/app.js';
import { errorResponses, NameOrIdParams } from '../http/schemas.js';
import type { ConnectionService } from './connection-service.js';
import { Connection, ConnectionInput } from './connection-types.js';

export function registerConnectionRoutes(app: App, connections: ConnectionService): void {
  app.addSchema(Connection);
  const tags = ['Connections'];
  const ConnectionRef = Type.Ref('Connection');

  app.post(
    '/api/connections',
    { config: { role: 'admin' }, schema: { tags, summary: 'Create Connection', body: ConnectionInput, response: { 201: ConnectionRef, ...errorResponses(400, 401, 403, 409, 422) } } },
    async (request, reply) => {
      return reply.status(201).send(await connections.create(request.body));
    },
  );

  app.get(
    '/api/connections',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'List Connections',
        querystring: Type.Object({
          agent_id: Type.Optional(Type.String()),
          type: Type.Optional(Type.String()),
          subtype: Type.Optional(Type.String()),
        }),
        response: { 200: Type.Array(ConnectionRef), ...errorResponses(401) },
      },
    },
    async (request) => {
      const { agent_id: agentId, type, subtype } = request.query;
      return connections.list({ agentId, type, subtype }, identityOf(request));
    },
  );

  app.get(
    '/api/connections/:nameOrID',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'Get Connection', params: NameOrIdParams, response: { 200: ConnectionRef, ...errorResponses(401, 404) } } },
    async (request) => {
      return connections.get(request.params.nameOrID, identityOf(request));
    },
  );

  app.put(
    '/api/connections/:nameOrID',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Connection',
        params: NameOrIdParams,
        body: ConnectionInput,
        response: { 200: ConnectionRef, ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      return connections.update(request.params.nameOrID, request.body);
    },
  );

  app.delete(
    '/api/connections/:nameOrID',
    { config: { role: 'admin' }, schema: { tags, summary: 'Delete Connection', params: NameOrIdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (request, reply) => {
      await connections.remove(request.params.nameOrID);
      return reply.status(204).send(null);
    },
  );
}
