import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import { BadRequestError } from '../../errors.js';
import type { Identity } from '../auth/identity.js';
import type { ConnectionRecord } from '../connections/connection-types.js';
import type { Notifier } from '../notifications/notification-types.js';
import type { Sealer } from '../secrets/sealer.js';
import type { ExecInput, SessionReviews } from '../sessions/session-service.js';
import type { ReviewStore } from './review-store.js';
import type { ReviewRecord, ReviewView } from './review-types.js';
import { reviewView } from './review-view.js';
import { publishReview } from './review-notifications.js';
import { validateTimeWindow } from './time-window.js';

/** Without a connection maximum, time-bound access is capped as the reference caps it. */
const JIT_MAX_SECONDS = 48 * 3600;

export function reviewGroupsOf(connection: Pick<ConnectionRecord, 'reviewers'>): string[] {
  return [...new Set(connection.reviewers)];
}

export function sealEnvVars(sealer: Sealer, envVars: Record<string, string>): Buffer | null {
  return Object.keys(envVars).length ? sealer.seal(Buffer.from(JSON.stringify(envVars), 'utf8')) : null;
}

export function openEnvVars(sealer: Sealer, sealed: Buffer | null): Record<string, string> {
  return sealed ? (JSON.parse(sealer.open(sealed).toString('utf8')) as Record<string, string>) : {};
}

function checkAccessDuration(seconds: number, connection: ConnectionRecord): void {
  if (connection.accessMaxDuration !== null && seconds > connection.accessMaxDuration) {
    throw new BadRequestError(`jit access input exceeds connection max duration of ${connection.accessMaxDuration}s`);
  }
  if (connection.accessMaxDuration === null && seconds > JIT_MAX_SECONDS) {
    throw new BadRequestError('jit access input must not be greater than 48 hours');
  }
}

/** The reviews side of the session service: which execs wait, storing their review, showing it. */
export function createSessionReviews(deps: {
  store: Pick<ReviewStore, 'insert' | 'hasActiveJit' | 'findBySessionIds'>;
  sealer: Sealer;
  notifier: Notifier;
  log: Logger;
}): SessionReviews {
  return {
    async needsReview(identity: Identity, connection: ConnectionRecord): Promise<boolean> {
      if (reviewGroupsOf(connection).length === 0) return false;
      // Approved time-bound access lets any exec (and native connection) through until it ends or is revoked.
      return !(await deps.store.hasActiveJit(identity.userId, connection.id, new Date()));
    },

    prepareReview(identity: Identity, input: ExecInput, sessionId: string) {
      const { connection } = input;
      const accessDurationSec = input.accessDurationSec ?? 0;
      checkAccessDuration(accessDurationSec, connection);
      const review: ReviewRecord = {
        id: randomUUID(),
        sessionId,
        type: accessDurationSec > 0 ? 'jit' : 'onetime',
        status: 'PENDING',
        connectionId: connection.id,
        connectionName: connection.name,
        inputEnvVarsSealed: sealEnvVars(deps.sealer, input.envVars),
        inputEnvVarKeys: Object.keys(input.envVars).sort(),
        inputClientArgs: input.clientArgs,
        accessDurationSec,
        ownerId: identity.userId,
        ownerEmail: identity.email,
        ownerName: identity.name,
        minApprovals: connection.minReviewApprovals,
        forceApprovalGroups: connection.forceApproveGroups,
        timeWindow: input.timeWindow ? validateTimeWindow(input.timeWindow) : null,
        rejectionReason: null,
        createdAt: new Date(),
        revokedAt: null,
        groups: reviewGroupsOf(connection).map((groupName) => ({
          id: randomUUID(),
          groupName,
          status: 'PENDING',
          reviewerId: null,
          reviewerEmail: null,
          reviewerName: null,
          reviewedAt: null,
          forcedReview: false,
        })),
      };
      return {
        async store() {
          await deps.store.insert(review);
          await publishReview(deps.notifier, deps.log, 'review.created', review);
        },
      };
    },

    async viewsOf(sessionIds: string[]): Promise<Map<string, ReviewView>> {
      const reviews = await deps.store.findBySessionIds(sessionIds);
      return new Map(reviews.map((review) => [review.sessionId, reviewView(review)]));
    },
  };
}
