import type { Logger } from '../../log.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { isAdmin, isAuditor, type Identity } from '../auth/identity.js';
import type { ConnectionService } from '../connections/connection-service.js';
import type { Notifier } from '../notifications/notification-types.js';
import type { Sealer } from '../secrets/sealer.js';
import type { SessionService } from '../sessions/session-service.js';
import type { ExecResult } from '../sessions/session-types.js';
import { applyDecision } from './review-decision.js';
import { publishReview } from './review-notifications.js';
import type { ReviewListFilter, ReviewStore } from './review-store.js';
import type { ReviewDecision, ReviewDecisionStatus, ReviewRecord, ReviewView } from './review-types.js';
import { reviewView } from './review-view.js';
import { openEnvVars } from './session-reviews.js';
import { assertWithinTimeWindow, validateTimeWindow } from './time-window.js';

export interface ReviewServiceDeps {
  store: ReviewStore;
  sessions: Pick<SessionService, 'runApproved' | 'input'>;
  connections: Pick<ConnectionService, 'find'>;
  sealer: Sealer;
  notifier: Notifier;
  log: Logger;
}

const DECISIONS: readonly string[] = ['APPROVED', 'REJECTED', 'REVOKED'] satisfies ReviewDecisionStatus[];

const readsAllReviews = (identity: Identity) => isAdmin(identity) || isAuditor(identity);

/** The owner, the reviewers of its groups, admins and auditors. */
function canRead(identity: Identity, review: ReviewRecord): boolean {
  return readsAllReviews(identity) || review.ownerId === identity.userId || review.groups.some((g) => identity.groups.includes(g.groupName));
}

export function createReviewService(deps: ReviewServiceDeps) {
  const notify = (type: Parameters<typeof publishReview>[2], review: ReviewRecord) => publishReview(deps.notifier, deps.log, type, review);

  async function findReadable(identity: Identity, idOrSessionId: string): Promise<ReviewRecord> {
    const review = await deps.store.find(idOrSessionId);
    if (!review) throw new NotFoundError('resource not found');
    if (!canRead(identity, review)) throw new ForbiddenError('user is not allowed to access this review');
    return review;
  }

  /** Marks a claimed run executed once its session ends, and tells. */
  async function settleRun(review: ReviewRecord): Promise<void> {
    if (await deps.store.markExecuted(review.id)) await notify('review.executed', { ...review, status: 'EXECUTED' });
  }

  return {
    async list(identity: Identity, filter: Omit<ReviewListFilter, 'visibleTo'>) {
      const visibleTo = readsAllReviews(identity) ? undefined : { userId: identity.userId, groups: identity.groups };
      const result = await deps.store.list({ ...filter, visibleTo });
      return { data: result.reviews.map(reviewView), total: result.total, has_next_page: result.hasNextPage };
    },

    async get(identity: Identity, idOrSessionId: string): Promise<ReviewView> {
      return reviewView(await findReadable(identity, idOrSessionId));
    },

    async decide(identity: Identity, idOrSessionId: string, body: ReviewDecision): Promise<ReviewView> {
      const status = body.status.toUpperCase();
      if (!DECISIONS.includes(status)) throw new BadRequestError(`unknown status ${body.status}, expected APPROVED, REJECTED or REVOKED`);
      const timeWindow = body.time_window ? validateTimeWindow(body.time_window) : null;
      let before: ReviewRecord['status'] | undefined;
      const review = await deps.store.decide(idOrSessionId, (current) => {
        before = current.status;
        return applyDecision(current, {
          reviewer: identity,
          status: status as ReviewDecisionStatus,
          forceReview: body.force_review ?? false,
          timeWindow,
          rejectionReason: body.rejection_reason,
          now: new Date(),
        });
      });
      if (!review) throw new NotFoundError('resource not found');
      if (review.status !== before && review.status === 'APPROVED') await notify('review.approved', review);
      if (review.status !== before && review.status === 'REJECTED') await notify('review.rejected', review);
      return reviewView(review);
    },

    /**
     * Runs an approved one-time review, once: the claim (APPROVED -> PROCESSING) is a conditional
     * UPDATE in the store, so exactly one of any number of concurrent calls, on any gateway, runs it.
     */
    async exec(identity: Identity, idOrSessionId: string): Promise<{ status: 200 | 202; body: ExecResult }> {
      const review = await deps.store.find(idOrSessionId);
      if (!review) throw new NotFoundError('reviewed session not found');
      if (review.type !== 'onetime') throw new NotFoundError('session not found');
      if (review.ownerId !== identity.userId && !isAdmin(identity)) throw new ForbiddenError('unable to execute session');
      if (review.status === 'PROCESSING' || review.status === 'EXECUTED') {
        throw new ConflictError(`the session ${review.sessionId} was already executed`);
      }
      if (review.status !== 'APPROVED') throw new ForbiddenError(`review not approved (status ${review.status})`);
      assertWithinTimeWindow(review.timeWindow, new Date());
      const connection = await deps.connections.find(review.connectionId, identity);
      if (!connection) throw new NotFoundError('connection not found');
      if (!(await deps.store.claimForExec(review.id))) throw new ConflictError(`the session ${review.sessionId} was already executed`);

      // The reviewed run: the stored script, env vars and client args, as the owner.
      const owner: Identity = { userId: review.ownerId, email: review.ownerEmail, name: review.ownerName, groups: [] };
      const launched = await deps.sessions.runApproved(owner, review.sessionId, {
        connection,
        script: await deps.sessions.input(review.sessionId),
        clientArgs: review.inputClientArgs,
        envVars: openEnvVars(deps.sealer, review.inputEnvVarsSealed),
      });
      const settled = launched.ended.then(() => settleRun(review));
      // A finished run answers with the review already EXECUTED; a 202 settles it in the background.
      if (launched.status === 200) await settled;
      else settled.catch((error: unknown) => deps.log.error({ err: error, reviewId: review.id }, 'failed marking the review executed'));
      return { status: launched.status, body: launched.body };
    },

    /** At start-up: runs that ended while no gateway watched them (a crash) become EXECUTED. */
    async settleFinishedRuns(): Promise<number> {
      const ids = await deps.store.settleFinishedRuns();
      for (const id of ids) {
        const review = await deps.store.find(id);
        if (review) await notify('review.executed', review);
      }
      return ids.length;
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
