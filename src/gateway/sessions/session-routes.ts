import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { UnprocessableError } from '../../errors.js';
import type { App } from '../http/app.js';
import { identityOf, sendJsonPieces } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import { renderExecResult } from './session-render.js';
import type { SessionService } from './session-service.js';
import { ReviewView } from '../reviews/review-types.js';
import { ExecRequest, ExecResponse, SessionView } from './session-types.js';

const SessionParams = Type.Object({ session_id: Type.String() });

const LIST_LIMIT_DEFAULT = 20;
const LIST_LIMIT_MAX = 100;
const LIST_OFFSET_MAX = 10_000;

function listOption(key: string, reason: string, resource = 'sessions'): UnprocessableError {
  return new UnprocessableError(`failed listing ${resource}, invalid "${key}" option: ${reason}`);
}

function parseInteger(key: string, value: string | undefined, fallback: number, resource: string): number {
  if (value === undefined || value === '') return fallback;
  if (!/^-?\d+$/.test(value)) throw listOption(key, `"${value}" is not a number`, resource);
  return Number(value);
}

/** `limit` and `offset` of a list endpoint (sessions, reviews): defaults, bounds, 422 otherwise. */
export function parseListPage(query: { limit?: string; offset?: string }, resource: string): { limit: number; offset: number } {
  const limit = parseInteger('limit', query.limit, LIST_LIMIT_DEFAULT, resource);
  if (limit < 1) throw listOption('limit', `must be at least 1, got ${limit}`, resource);
  const offset = parseInteger('offset', query.offset, 0, resource);
  if (offset < 0) throw listOption('offset', `must not be negative, got ${offset}`, resource);
  if (offset > LIST_OFFSET_MAX) {
    throw listOption('offset', `must not be greater than ${LIST_OFFSET_MAX}, got ${offset}; narrow the result set with a filter instead of paginating deeper`, resource);
  }
  return { limit: Math.min(limit, LIST_LIMIT_MAX), offset };
}

function parseDate(key: string, value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) {
    throw listOption(key, 'start_date or end_date in wrong format');
  }
  return date;
}

export function registerSessionRoutes(app: App, sessions: SessionService): void {
  app.addSchema(ExecResponse);
  app.addSchema(ReviewView);
  app.addSchema(SessionView);
  const tags = ['Sessions'];

  app.post(
    '/api/sessions',
    {
      config: { role: 'standard' },
      schema: {
        tags,
        summary: 'Exec',
        description:
          'Runs `script` (stdin) through the connection command plus `client_args`. Waits up to GATEHOUSE_EXEC_WAIT_SECONDS: 200 when finished, else 202 and the run continues; poll GET /api/sessions/{id}.',
        body: ExecRequest,
        response: { 200: Type.Ref('ExecResponse'), 202: Type.Ref('ExecResponse'), ...errorResponses(400, 401, 422) },
      },
    },
    async (request, reply) => {
      const userClient = (request.headers['user-client'] as string | undefined) ?? request.headers['user-agent'];
      const result = await sessions.exec(identityOf(request), request.body, userClient);
      return sendJsonPieces(reply.status(result.status), renderExecResult(result.body));
    },
  );

  app.get(
    '/api/sessions',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'List Sessions',
        querystring: Type.Object({
          user: Type.Optional(Type.String()),
          connection: Type.Optional(Type.String()),
          type: Type.Optional(Type.String()),
          status: Type.Optional(Type.String()),
          start_date: Type.Optional(Type.String()),
          end_date: Type.Optional(Type.String()),
          limit: Type.Optional(Type.String()),
          offset: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({ data: Type.Array(Type.Ref('Session')), total: Type.Integer(), has_next_page: Type.Boolean() }),
          ...errorResponses(401, 422),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const { limit, offset } = parseListPage(q, 'sessions');
      const startDate = parseDate('start_date', q.start_date);
      const endDate = parseDate('end_date', q.end_date) ?? new Date();
      return sessions.list(identityOf(request), {
        userId: q.user,
        connection: q.connection,
        type: q.type,
        status: q.status,
        startDate,
        endDate: startDate ? endDate : undefined,
        limit,
        offset,
      });
    },
  );

  app.get(
    '/api/sessions/:session_id',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'Get Session',
        description:
          '`expand=event_stream` adds the recording (`event_stream=utf8|base64` renders the output as one string); `extension` returns a one-time download link instead.',
        params: SessionParams,
        querystring: Type.Object({
          expand: Type.Optional(Type.String()),
          event_stream: Type.Optional(Type.String()),
          extension: Type.Optional(Type.String()),
          newline: Type.Optional(Type.String()),
          new_line: Type.Optional(Type.String()),
          'event-time': Type.Optional(Type.String()),
          events: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Union([Type.Ref('Session'), Type.Object({ download_url: Type.String(), expire_at: Type.String() })]),
          ...errorResponses(401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const identity = identityOf(request);
      const q = request.query;
      if (q.extension) {
        return sessions.createDownloadLink(identity, request.params.session_id, {
          extension: q.extension,
          newline: q.newline ?? q.new_line,
          'event-time': q['event-time'],
          events: q.events,
        });
      }
      const expand = (q.expand ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const chunks = await sessions.get(identity, request.params.session_id, { expand, eventStream: q.event_stream });
      // Streamed as written: a recording is never held whole in memory.
      return sendJsonPieces(reply, chunks);
    },
  );

  app.get(
    '/api/connections/:nameOrID/test',
    {
      // Auditors run nothing, a login test included (the reference lets any signed-in user).
      config: { role: 'standard' },
      schema: {
        tags: ['Connections'],
        summary: 'Test Connection',
        description:
          'Runs `SELECT 1` through the connection\'s database client on its agent (recorded as a session labelled gatehouse.connection_test): 200 when the agent reaches the server and logs in, else 400 with the reason.',
        params: Type.Object({ nameOrID: Type.String() }),
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => sessions.testConnection(identityOf(request), request.params.nameOrID),
  );

  app.post(
    '/api/sessions/:session_id/kill',
    { config: { role: 'standard' }, schema: { tags, summary: 'Kill Session', params: SessionParams, response: { 204: Type.Null(), ...errorResponses(401, 404) } } },
    async (request, reply) => {
      await sessions.kill(identityOf(request), request.params.session_id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/sessions/:session_id/download',
    {
      config: { role: 'public' },
      schema: {
        tags,
        summary: 'Download Session',
        description: 'Authenticated by the one-time token of the link only; the link expires after 5 minutes.',
        params: SessionParams,
        querystring: Type.Object({ token: Type.Optional(Type.String()) }, { additionalProperties: true }),
        security: [],
        response: { ...errorResponses(401, 404, 410) },
      },
    },
    async (request, reply) => {
      const download = await sessions.download(request.params.session_id, request.query.token);
      return reply
        .header('Content-Disposition', `attachment; filename=${download.filename}`)
        .type('application/octet-stream')
        .send(Readable.from(download.body));
    },
  );
}
