import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { identityOf, sendJsonPieces } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import { renderExecResult } from '../sessions/session-render.js';
import { parseListPage } from '../sessions/session-routes.js';
import type { ReviewService } from './review-service.js';
import { ReviewDecision } from './review-types.js';

const ReviewParams = Type.Object({ id: Type.String({ description: 'The review id or its session id' }) });
const SessionParams = Type.Object({ session_id: Type.String() });

/** The Review schema itself is registered with the session routes (sessions embed it). */
export function registerReviewRoutes(app: App, reviews: ReviewService): void {
  const tags = ['Reviews'];
  const decideDescription =
    'Only members of a review group (or admins) decide; owners may not approve their own request unless admin. `force_review` decides alone as a member of a force-approval group. `time_window` (UTC) may be set once, with APPROVED.';

  app.get(
    '/api/reviews',
    {
      config: { role: 'readOnly' },
      schema: {
        tags,
        summary: 'List Reviews',
        description: 'Admins and auditors see every review; others the ones they own or whose groups they belong to. Newest first.',
        querystring: Type.Object({
          status: Type.Optional(Type.String()),
          type: Type.Optional(Type.String()),
          connection: Type.Optional(Type.String()),
          limit: Type.Optional(Type.String()),
          offset: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({ data: Type.Array(Type.Ref('Review')), total: Type.Integer(), has_next_page: Type.Boolean() }),
          ...errorResponses(401, 422),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return reviews.list(identityOf(request), { status: q.status, type: q.type, connection: q.connection, ...parseListPage(q, 'reviews') });
    },
  );

  app.get(
    '/api/reviews/:id',
    {
      config: { role: 'readOnly' },
      schema: { tags, summary: 'Get Review', params: ReviewParams, response: { 200: Type.Ref('Review'), ...errorResponses(401, 403, 404) } },
    },
    async (request) => reviews.get(identityOf(request), request.params.id),
  );

  app.put(
    '/api/reviews/:id',
    {
      config: { role: 'standard' },
      schema: {
        tags,
        summary: 'Update Review',
        description: decideDescription,
        params: ReviewParams,
        body: ReviewDecision,
        response: { 200: Type.Ref('Review'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => reviews.decide(identityOf(request), request.params.id, request.body),
  );

  app.put(
    '/api/sessions/:session_id/review',
    {
      config: { role: 'standard' },
      schema: {
        tags,
        summary: 'Update Review By Session',
        description: decideDescription,
        params: SessionParams,
        body: ReviewDecision,
        response: { 200: Type.Ref('Review'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => reviews.decide(identityOf(request), request.params.session_id, request.body),
  );

  app.post(
    '/api/sessions/:session_id/exec',
    {
      config: { role: 'standard' },
      schema: {
        tags,
        summary: 'Exec Reviewed Session',
        description:
          'Runs an approved one-time review once, as its owner, inside its time window: the reviewed script, env vars and client args. 200/202 as POST /api/sessions; 409 when it already ran or is running; 403 when not approved or outside the window.',
        params: SessionParams,
        response: { 200: Type.Ref('ExecResponse'), 202: Type.Ref('ExecResponse'), ...errorResponses(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const result = await reviews.exec(identityOf(request), request.params.session_id);
      return sendJsonPieces(reply.status(result.status), renderExecResult(result.body));
    },
  );
}
