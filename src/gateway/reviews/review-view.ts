import type { ReviewRecord, ReviewView } from './review-types.js';

const NANOSECONDS_PER_SECOND = 1_000_000_000;

/** The review as the API (and notifications) show it: env var keys only, never their values. */
export function reviewView(review: ReviewRecord): ReviewView {
  return {
    id: review.id,
    session: review.sessionId,
    type: review.type,
    status: review.status,
    access_duration: review.accessDurationSec * NANOSECONDS_PER_SECOND,
    access_duration_sec: review.accessDurationSec,
    revoke_at: review.revokedAt ? review.revokedAt.toISOString() : null,
    created_at: review.createdAt.toISOString(),
    review_owner: { id: review.ownerId, name: review.ownerName, email: review.ownerEmail },
    review_connection: { id: review.connectionId, name: review.connectionName },
    input_env_vars: review.inputEnvVarKeys,
    input_client_args: review.inputClientArgs,
    review_groups_data: review.groups.map((group) => ({
      id: group.id,
      group: group.groupName,
      status: group.status,
      reviewed_by: group.reviewerId
        ? { id: group.reviewerId, name: group.reviewerName ?? '', email: group.reviewerEmail ?? '', slack_id: '' }
        : null,
      review_date: group.reviewedAt ? group.reviewedAt.toISOString() : null,
      forced_review: group.forcedReview,
    })),
    time_window: review.timeWindow,
    access_request_rule_name: null,
    min_approvals: review.minApprovals,
    force_approval_groups: review.forceApprovalGroups,
    ...(review.rejectionReason !== null ? { rejection_reason: review.rejectionReason } : {}),
  };
}
