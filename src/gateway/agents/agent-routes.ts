import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf } from '../http/app.js';
import { errorResponses, NameOrIdParams, StringMap } from '../http/schemas.js';
import type { AgentService } from './agent-service.js';

const Agent = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    token: Type.String({ description: 'Always empty: the token is shown only when created' }),
    name: Type.String(),
    mode: Type.String(),
    status: Type.Union([Type.Literal('CONNECTED'), Type.Literal('DISCONNECTED')]),
    metadata: StringMap,
    hostname: Type.String(),
    platform: Type.String(),
    version: Type.String(),
    kernel_version: Type.String(),
    machine_id: Type.String(),
    goversion: Type.String(),
    compiler: Type.String(),
    last_seen_at: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'Agent' },
);

export function registerAgentRoutes(app: App, agents: AgentService): void {
  app.addSchema(Agent);
  const tags = ['Agents'];

  app.post(
    '/api/agents',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create Agent Key',
        description: 'Returns the agent token (a DSN) once; only a hash of its secret is stored.',
        body: Type.Object({ name: Type.String(), mode: Type.Optional(Type.String()) }),
        response: { 201: Type.Object({ token: Type.String() }), ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      return reply.status(201).send(await agents.create(request.body));
    },
  );

  app.get(
    '/api/agents',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'List Agent Keys',
        querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('CONNECTED'), Type.Literal('DISCONNECTED')])) }),
        response: { 200: Type.Array(Type.Ref('Agent')), ...errorResponses(401) },
      },
    },
    async (request) => {
      return agents.list(request.query.status);
    },
  );

  app.get(
    '/api/agents/:nameOrID',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'Get Agent Key', params: NameOrIdParams, response: { 200: Type.Ref('Agent'), ...errorResponses(401, 404) } } },
    async (request) => {
      return agents.get(request.params.nameOrID);
    },
  );

  app.delete(
    '/api/agents/:nameOrID',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Delete Agent Key',
        description: 'Revokes the key and drops the agent\'s live stream.',
        params: NameOrIdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await agents.remove(request.params.nameOrID);
      return reply.status(204).send(null);
    },
  );
}
