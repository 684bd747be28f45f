import { randomUUID } from 'node:crypto';
import { BadRequestError, ForbiddenError } from '../../errors.js';
import { isAdmin, type Identity } from '../auth/identity.js';
import type { SessionEffect } from './review-store.js';
import type { ReviewDecisionStatus, ReviewGroupRecord, ReviewRecord, TimeWindow } from './review-types.js';

export interface Decision {
  reviewer: Identity;
  status: ReviewDecisionStatus;
  forceReview: boolean;
  timeWindow: TimeWindow | null;
  rejectionReason: string | undefined;
  now: Date;
}

/** Which current statuses each decision may follow. */
const ALLOWED_FROM: Record<ReviewDecisionStatus, string[]> = {
  APPROVED: ['PENDING'],
  REJECTED: ['PENDING', 'APPROVED'],
  REVOKED: ['APPROVED'],
};

/** Approvals needed: the minimum when the connection sets one (never more than there are groups), else every group. */
export function requiredApprovals(review: Pick<ReviewRecord, 'minApprovals' | 'groups'>): number {
  const groups = review.groups.filter((g) => !g.forcedReview).length;
  return review.minApprovals !== null && review.minApprovals > 0 ? Math.min(review.minApprovals, groups) : groups;
}

function decided(group: ReviewGroupRecord, decision: Decision, forced: boolean): ReviewGroupRecord {
  const { reviewer } = decision;
  return {
    ...group,
    status: decision.status,
    reviewerId: reviewer.userId,
    reviewerEmail: reviewer.email,
    reviewerName: reviewer.name,
    reviewedAt: decision.now,
    forcedReview: forced,
  };
}

/** A group entry for a reviewer deciding outside the review's groups (force group, admin, the owner withdrawing). */
function addedGroup(groupName: string): ReviewGroupRecord {
  return { id: randomUUID(), groupName, status: 'PENDING', reviewerId: null, reviewerEmail: null, reviewerName: null, reviewedAt: null, forcedReview: false };
}

/** Replaces the entry of `groupName` (or appends one) with the decision. */
function withDecidedGroup(groups: ReviewGroupRecord[], groupName: string, decision: Decision): ReviewGroupRecord[] {
  const existing = groups.find((g) => g.groupName === groupName);
  const entry = decided(existing ?? addedGroup(groupName), decision, true);
  return existing ? groups.map((g) => (g === existing ? entry : g)) : [...groups, entry];
}

/**
 * One reviewer's decision on a review: the review's new state and what happens to its session,
 * or an error that refuses it. Pure: the store applies it while the review row is locked.
 */
export function applyDecision(current: ReviewRecord, decision: Decision): { review: ReviewRecord; session: SessionEffect | undefined } {
  const { reviewer, status } = decision;
  if (status === 'REVOKED' && current.type !== 'jit') throw new BadRequestError('only time-bound (jit) reviews can be revoked');
  if (!ALLOWED_FROM[status].includes(current.status)) throw new BadRequestError('review is in wrong state');
  const admin = isAdmin(reviewer);
  const owner = reviewer.userId === current.ownerId;
  if (status === 'APPROVED' && owner && !admin) throw new ForbiddenError('unable to self approve review');
  if (decision.timeWindow && status === 'APPROVED' && current.timeWindow) throw new BadRequestError('time window can only be set once');

  let groups: ReviewGroupRecord[];
  let overall: ReviewRecord['status'];
  const ownGroups = current.groups.filter((g) => !g.forcedReview && reviewer.groups.includes(g.groupName));
  if (decision.forceReview) {
    const forceGroup = reviewer.groups.find((g) => current.forceApprovalGroups.includes(g));
    if (!forceGroup) throw new ForbiddenError('not eligible for review');
    groups = withDecidedGroup(current.groups, forceGroup, decision);
    overall = status;
  } else if (ownGroups.length > 0) {
    // Each group decides once: an approval counts only for the caller's groups still pending.
    const deciding = status === 'APPROVED' ? ownGroups.filter((g) => g.status === 'PENDING') : ownGroups;
    if (deciding.length === 0) throw new BadRequestError('your groups have already approved this review');
    groups = current.groups.map((g) => (deciding.includes(g) ? decided(g, decision, false) : g));
    const approvals = groups.filter((g) => !g.forcedReview && g.status === 'APPROVED').length;
    overall = status !== 'APPROVED' ? status : approvals >= requiredApprovals(current) ? 'APPROVED' : 'PENDING';
  } else if (admin) {
    // Admins may decide any review, alone; the entry records that an admin did.
    groups = withDecidedGroup(current.groups, 'admin', decision);
    overall = status;
  } else if (owner && status !== 'APPROVED') {
    // The owner may withdraw their own request.
    groups = withDecidedGroup(current.groups, reviewer.groups[0] ?? reviewer.email, decision);
    overall = status;
  } else {
    throw new ForbiddenError('not eligible for review');
  }

  const review: ReviewRecord = { ...current, groups, status: overall };
  if (status === 'APPROVED' && decision.timeWindow) review.timeWindow = decision.timeWindow;
  if (overall === 'REJECTED' && decision.rejectionReason) review.rejectionReason = decision.rejectionReason;
  let session: SessionEffect | undefined;
  if (overall === 'APPROVED') {
    if (current.type === 'jit') review.revokedAt = new Date(decision.now.getTime() + current.accessDurationSec * 1000);
    session = { status: 'ready' };
  } else if (overall === 'REJECTED') {
    const reason = decision.rejectionReason ? `: ${decision.rejectionReason}` : '';
    session = { status: 'done', endReason: `access to the connection was denied by ${reviewer.email}${reason}` };
  } else if (overall === 'REVOKED') {
    review.revokedAt = decision.now;
    session = { status: 'done', endReason: `access revoked by ${reviewer.email}` };
  }
  return { review, session };
}
