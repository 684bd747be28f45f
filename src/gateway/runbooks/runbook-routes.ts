import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf, sendJsonPieces } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import { renderExecResult } from '../sessions/session-render.js';
import type { RunbookConfigService } from './runbook-config-service.js';
import type { RunbookService } from './runbook-service.js';
import {
  ParameterMetadata,
  RunbookConfigurationView,
  RunbookExecV1,
  RunbookExecV2,
  RunbookItem,
  RunbookList,
  RunbookListV2,
  RunbookRenderRequest,
  RunbookRenderResponse,
  RunbookRepositoryInput,
  RunbookRepositoryView,
} from './runbook-types.js';

const ConfigIdParams = Type.Object({ id: Type.String() });
const ConnectionParams = Type.Object({ name: Type.String() });
const execResponses = { 200: Type.Ref('ExecResponse'), 202: Type.Ref('ExecResponse'), ...errorResponses(400, 401, 403, 404, 422, 502) };

function userClientOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  return (headers['user-client'] as string | undefined) ?? (headers['user-agent'] as string | undefined);
}

export function registerRunbookRoutes(app: App, runbooks: RunbookService, config: RunbookConfigService): void {
  for (const schema of [RunbookRepositoryView, RunbookConfigurationView, ParameterMetadata, RunbookItem]) app.addSchema(schema);
  const tags = ['Runbooks'];

  app.get(
    '/api/runbooks/configurations',
    { config: { role: 'adminAndAuditor' }, schema: { tags, summary: 'Get Runbook Configuration', response: { 200: Type.Ref('RunbookConfiguration'), ...errorResponses(401, 403, 404) } } },
    async (request) => {
      return config.get();
    },
  );

  app.put(
    '/api/runbooks/configurations',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Runbook Configuration',
        description: 'Replaces every repository. Secrets sent back as "*****" keep their stored value.',
        body: Type.Object({ repositories: Type.Array(RunbookRepositoryInput) }),
        response: { 200: Type.Ref('RunbookConfiguration'), ...errorResponses(400, 401, 403, 422) },
      },
    },
    async (request) => {
      return config.replace(request.body.repositories);
    },
  );

  app.post(
    '/api/runbooks/configurations',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Create Runbook Configuration Entry',
        body: RunbookRepositoryInput,
        response: { 201: Type.Ref('RunbookRepository'), ...errorResponses(400, 401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      return reply.status(201).send(await config.create(request.body));
    },
  );

  app.put(
    '/api/runbooks/configurations/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Update Runbook Configuration Entry',
        description: 'The id is the UUIDv5 (URL namespace) of git_url.',
        params: ConfigIdParams,
        body: RunbookRepositoryInput,
        response: { 200: Type.Ref('RunbookRepository'), ...errorResponses(400, 401, 403, 404, 422) },
      },
    },
    async (request) => {
      return config.update(request.params.id, request.body);
    },
  );

  app.delete(
    '/api/runbooks/configurations/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags,
        summary: 'Delete Runbook Configuration Entry',
        params: ConfigIdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await config.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/runbooks',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'List Runbooks',
        querystring: Type.Object({
          connection_name: Type.Optional(Type.String()),
          connection: Type.Optional(Type.String({ description: 'Legacy alias of connection_name' })),
          list_connections: Type.Optional(Type.String()),
          remove_empty_connections: Type.Optional(Type.String()),
        }),
        response: { 200: RunbookListV2, ...errorResponses(401, 404) },
      },
    },
    async (request) => {
      const query = request.query;
      return runbooks.listV2(identityOf(request), {
        connectionName: query.connection_name || query.connection || undefined,
        listConnections: query.list_connections === 'true',
        removeEmptyConnections: query.remove_empty_connections !== 'false',
      });
    },
  );

  app.get(
    '/api/plugins/runbooks/templates',
    { config: { role: 'readOnly' }, schema: { tags, summary: 'List Runbooks', response: { 200: RunbookList, ...errorResponses(401, 404, 502) } } },
    async (request) => {
      return runbooks.listV1(identityOf(request), undefined);
    },
  );

  app.get(
    '/api/plugins/runbooks/connections/:name/templates',
    {
      config: { role: 'readOnly' },
      schema: { tags, summary: 'List Runbooks By Connection', params: ConnectionParams, response: { 200: RunbookList, ...errorResponses(401, 404, 502) } },
    },
    async (request) => {
      return runbooks.listV1(identityOf(request), request.params.name);
    },
  );

  app.post(
    '/api/runbooks/render',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'Render Runbook',
        description: 'The script a run would send as stdin, for these parameters, without running it; or the exact error a run would get.',
        body: RunbookRenderRequest,
        response: { 200: RunbookRenderResponse, ...errorResponses(400, 401, 404, 502) },
      },
    },
    async (request) => {
      return runbooks.preview(request.body);
    },
  );

  app.post(
    '/api/plugins/runbooks/connections/:name/exec',
    { config: { role: 'standard' }, schema: { tags, summary: 'Runbook Exec', params: ConnectionParams, body: RunbookExecV1, response: execResponses } },
    async (request, reply) => {
      const result = await runbooks.execV1(identityOf(request), request.params.name, request.body, userClientOf(request.headers));
      return sendJsonPieces(reply.status(result.status), renderExecResult(result.body));
    },
  );

  app.post(
    '/api/runbooks/exec',
    { config: { role: 'standard' }, schema: { tags, summary: 'Runbook Exec', body: RunbookExecV2, response: execResponses } },
    async (request, reply) => {
      const result = await runbooks.execV2(identityOf(request), request.body, userClientOf(request.headers));
      return sendJsonPieces(reply.status(result.status), renderExecResult(result.body));
    },
  );
}
