import { Type, type Static } from 'typebox';

/** Reviews on the wire (the reference's field names) and as stored. */

export type ReviewType = 'onetime' | 'jit';
export type ReviewStatus = 'PENDING' | 'APPROVED' | 'REJECTED' | 'REVOKED' | 'PROCESSING' | 'EXECUTED';
/** What a reviewer may decide. */
export type ReviewDecisionStatus = 'APPROVED' | 'REJECTED' | 'REVOKED';

export const TimeWindow = Type.Object({
  type: Type.String({ description: 'Only "time_range" is known' }),
  configuration: Type.Object({
    start_time: Type.String({ description: 'HH:MM, UTC' }),
    end_time: Type.String({ description: 'HH:MM, UTC; before start_time means the window runs over midnight' }),
  }),
});
export type TimeWindow = Static<typeof TimeWindow>;

export const ReviewDecision = Type.Object({
  status: Type.String({ description: 'APPROVED, REJECTED or REVOKED (case-insensitive)' }),
  time_window: Type.Optional(TimeWindow),
  force_review: Type.Optional(Type.Boolean({ description: 'Decide alone, as a member of a force-approval group' })),
  rejection_reason: Type.Optional(Type.String()),
});
export type ReviewDecision = Static<typeof ReviewDecision>;

const Person = Type.Object({ id: Type.String(), name: Type.String(), email: Type.String(), slack_id: Type.String() });

export const ReviewGroupView = Type.Object({
  id: Type.String(),
  group: Type.String(),
  status: Type.String(),
  reviewed_by: Type.Union([Person, Type.Null()]),
  review_date: Type.Union([Type.String(), Type.Null()]),
  forced_review: Type.Boolean(),
});

export const ReviewView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    session: Type.String({ format: 'uuid' }),
    type: Type.String({ description: 'onetime or jit' }),
    status: Type.String(),
    access_duration: Type.Integer({ description: 'Nanoseconds, as the reference' }),
    access_duration_sec: Type.Integer(),
    revoke_at: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String(),
    review_owner: Type.Object({ id: Type.String(), name: Type.String(), email: Type.String() }),
    review_connection: Type.Object({ id: Type.String(), name: Type.String() }),
    input_env_vars: Type.Array(Type.String(), { description: 'The keys only: values are secrets and never returned' }),
    input_client_args: Type.Array(Type.String()),
    review_groups_data: Type.Array(ReviewGroupView),
    time_window: Type.Union([TimeWindow, Type.Null()]),
    access_request_rule_name: Type.Null(),
    min_approvals: Type.Union([Type.Integer(), Type.Null()]),
    force_approval_groups: Type.Array(Type.String()),
    rejection_reason: Type.Optional(Type.String()),
  },
  { $id: 'Review' },
);
export type ReviewView = Static<typeof ReviewView>;

export interface ReviewGroupRecord {
  id: string;
  groupName: string;
  status: 'PENDING' | ReviewDecisionStatus;
  reviewerId: string | null;
  reviewerEmail: string | null;
  reviewerName: string | null;
  reviewedAt: Date | null;
  forcedReview: boolean;
}

export interface ReviewRecord {
  id: string;
  sessionId: string;
  type: ReviewType;
  status: ReviewStatus;
  connectionId: string;
  connectionName: string;
  /** Sealed JSON of the env vars (base64 values); opened only to run the reviewed exec. */
  inputEnvVarsSealed: Buffer | null;
  inputEnvVarKeys: string[];
  inputClientArgs: string[];
  accessDurationSec: number;
  ownerId: string;
  ownerEmail: string;
  ownerName: string;
  minApprovals: number | null;
  forceApprovalGroups: string[];
  timeWindow: TimeWindow | null;
  rejectionReason: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  groups: ReviewGroupRecord[];
}
