import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { GuardrailService } from './guardrail-service.js';
import { Guardrail, GuardrailRequest } from './guardrail-types.js';

const IdParams = Type.Object({ id: Type.String() });

export function registerGuardrailRoutes(app: App, guardrails: GuardrailService): void {
  app.addSchema(Guardrail);
  const tags = ['Guardrails'];

  app.get(
    '/api/guardrails',
    { config: { role: 'adminAndAuditor' }, schema: { tags, summary: 'List Guardrail Rules', response: { 200: Type.Array(Type.Ref('Guardrail')), ...errorResponses(401, 403) } } },
    async () => guardrails.list(),
  );

  app.get(
    '/api/guardrails/:id',
    { config: { role: 'adminAndAuditor' }, schema: { tags, summary: 'Get Guardrail Rule', params: IdParams, response: { 200: Type.Ref('Guardrail'), ...errorResponses(401, 403, 404) } } },
    async (request) => guardrails.get(request.params.id),
  );

  app.post(
    '/api/guardrails',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create Guardrail Rule',
        description: 'Rules are validated when saved: a bad regex answers 400 with the position of the error.',
        body: GuardrailRequest,
        response: { 201: Type.Ref('Guardrail'), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await guardrails.create(request.body)),
  );

  app.put(
    '/api/guardrails/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Guardrail Rule',
        params: IdParams,
        body: GuardrailRequest,
        response: { 200: Type.Ref('Guardrail'), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => guardrails.update(request.params.id, request.body),
  );

  app.delete(
    '/api/guardrails/:id',
    { config: { role: 'admin' }, schema: { tags, summary: 'Delete Guardrail Rule', params: IdParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (request, reply) => {
      await guardrails.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
