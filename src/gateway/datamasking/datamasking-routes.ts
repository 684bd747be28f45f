import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { DataMaskingService } from './datamasking-service.js';
import { DataMaskingRule, DataMaskingRuleConnection, DataMaskingRuleConnectionRequest, DataMaskingRuleRequest } from './datamasking-types.js';

const IdParams = Type.Object({ id: Type.String() });
const ConnectionParams = Type.Object({ nameOrID: Type.String() });

export function registerDataMaskingRoutes(app: App, rules: DataMaskingService): void {
  app.addSchema(DataMaskingRule);
  app.addSchema(DataMaskingRuleConnection);
  const tags = ['Data Masking'];

  app.get(
    '/api/datamasking-rules',
    { config: { role: 'adminAndAuditor' }, schema: { tags, summary: 'List Data Masking Rules', response: { 200: Type.Array(Type.Ref('DataMaskingRule')), ...errorResponses(401, 403) } } },
    async () => rules.list(),
  );

  app.get(
    '/api/datamasking-rules/:id',
    {
      config: { role: 'adminAndAuditor' },
      schema: { tags, summary: 'Get Data Masking Rule', params: IdParams, response: { 200: Type.Ref('DataMaskingRule'), ...errorResponses(401, 403, 404) } },
    },
    async (request) => rules.get(request.params.id),
  );

  app.post(
    '/api/datamasking-rules',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create Data Masking Rule',
        description: 'Masking is done by the built-in engine: no DLP provider is needed. Entity types the engine cannot detect are refused (400).',
        body: DataMaskingRuleRequest,
        response: { 201: Type.Ref('DataMaskingRule'), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await rules.create(request.body)),
  );

  app.put(
    '/api/datamasking-rules/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Data Masking Rule',
        description: 'The name is immutable; connection bindings are replaced.',
        params: IdParams,
        body: DataMaskingRuleRequest,
        response: { 200: Type.Ref('DataMaskingRule'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => rules.update(request.params.id, request.body),
  );

  app.delete(
    '/api/datamasking-rules/:id',
    { config: { role: 'admin' }, schema: { tags, summary: 'Delete Data Masking Rule', params: IdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (request, reply) => {
      await rules.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/connections/:nameOrID/datamasking-rules',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Data Masking Rule Connections',
        description: "Replaces the connection's bindings; an empty array removes them all.",
        params: ConnectionParams,
        body: Type.Array(DataMaskingRuleConnectionRequest),
        response: { 200: Type.Array(Type.Ref('DataMaskingRuleConnection')), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => rules.replaceConnectionRules(request.params.nameOrID, request.body),
  );
}
