import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { ReviewGroupsTable, ReviewsTable } from '../store/schema.js';
import type { ReviewGroupRecord, ReviewRecord, TimeWindow } from './review-types.js';
import { UUID } from '../ids.js';

/** What a decision does to the review's session, in the same transaction. */
export type SessionEffect = { status: 'ready' } | { status: 'done'; endReason: string };

export interface ReviewListFilter {
  status?: string;
  type?: string;
  connection?: string;
  limit: number;
  offset: number;
  /** Non-admin callers: reviews they own or whose groups they belong to. */
  visibleTo?: { userId: string; groups: string[] };
}

function groupFromRow(row: Selectable<ReviewGroupsTable>): ReviewGroupRecord {
  return {
    id: row.id,
    groupName: row.group_name,
    status: row.status as ReviewGroupRecord['status'],
    reviewerId: row.reviewer_id,
    reviewerEmail: row.reviewer_email,
    reviewerName: row.reviewer_name,
    reviewedAt: row.reviewed_at,
    forcedReview: row.forced_review,
  };
}

function fromRow(row: Selectable<ReviewsTable>, groups: ReviewGroupRecord[]): ReviewRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    type: row.type as ReviewRecord['type'],
    status: row.status as ReviewRecord['status'],
    connectionId: row.connection_id,
    connectionName: row.connection_name,
    inputEnvVarsSealed: row.input_env_vars_sealed ? toBuffer(row.input_env_vars_sealed) : null,
    inputEnvVarKeys: row.input_env_var_keys,
    inputClientArgs: row.input_client_args,
    accessDurationSec: row.access_duration_sec,
    ownerId: row.owner_id,
    ownerEmail: row.owner_email,
    ownerName: row.owner_name,
    minApprovals: row.min_approvals,
    forceApprovalGroups: row.force_approval_groups,
    timeWindow: row.time_window as TimeWindow | null,
    rejectionReason: row.rejection_reason,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    groups,
  };
}

export function createReviewStore(db: Db) {
  /** Attaches each review's groups, in the order the connection listed them. */
  async function withGroups(executor: Db, rows: Selectable<ReviewsTable>[]): Promise<ReviewRecord[]> {
    if (rows.length === 0) return [];
    const groupRows = await executor
      .selectFrom('review_groups')
      .selectAll()
      .where('review_id', 'in', rows.map((r) => r.id))
      .orderBy('position')
      .execute();
    return rows.map((row) => fromRow(row, groupRows.filter((g) => g.review_id === row.id).map(groupFromRow)));
  }

  async function findIn(executor: Db, idOrSessionId: string, forUpdate: boolean): Promise<ReviewRecord | undefined> {
    if (!UUID.test(idOrSessionId)) return undefined;
    let query = executor
      .selectFrom('reviews')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrSessionId), eb('session_id', '=', idOrSessionId)]));
    if (forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row && (await withGroups(executor, [row]))[0];
  }

  return {
    async insert(review: ReviewRecord): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('reviews')
          .values({
            id: review.id,
            session_id: review.sessionId,
            type: review.type,
            status: review.status,
            connection_id: review.connectionId,
            connection_name: review.connectionName,
            input_env_vars_sealed: review.inputEnvVarsSealed,
            input_env_var_keys: review.inputEnvVarKeys,
            input_client_args: review.inputClientArgs,
            access_duration_sec: review.accessDurationSec,
            owner_id: review.ownerId,
            owner_email: review.ownerEmail,
            owner_name: review.ownerName,
            min_approvals: review.minApprovals,
            force_approval_groups: review.forceApprovalGroups,
            time_window: review.timeWindow ? JSON.stringify(review.timeWindow) : null,
            created_at: review.createdAt,
          })
          .execute();
        await tx
          .insertInto('review_groups')
          .values(review.groups.map((g, position) => ({ id: g.id, review_id: review.id, group_name: g.groupName, status: g.status, position })))
          .execute();
      });
    },

    find: (idOrSessionId: string) => findIn(db, idOrSessionId, false),

    async findBySessionIds(sessionIds: string[]): Promise<ReviewRecord[]> {
      if (sessionIds.length === 0) return [];
      return withGroups(db, await db.selectFrom('reviews').selectAll().where('session_id', 'in', sessionIds).execute());
    },

    /** Whether the user holds approved time-bound access to the connection that has not ended yet. */
    async hasActiveJit(ownerId: string, connectionId: string, now: Date): Promise<boolean> {
      const row = await db
        .selectFrom('reviews')
        .select('id')
        .where('type', '=', 'jit')
        .where('status', '=', 'APPROVED')
        .where('owner_id', '=', ownerId)
        .where('connection_id', '=', connectionId)
        .where('revoked_at', '>', now)
        .executeTakeFirst();
      return row !== undefined;
    },

    async list(filter: ReviewListFilter): Promise<{ reviews: ReviewRecord[]; total: number; hasNextPage: boolean }> {
      let query = db.selectFrom('reviews');
      const visibleTo = filter.visibleTo;
      if (visibleTo) {
        query = query.where((eb) =>
          eb.or([
            eb('owner_id', '=', visibleTo.userId),
            ...(visibleTo.groups.length
              ? [eb.exists(eb.selectFrom('review_groups').select('review_groups.id').whereRef('review_groups.review_id', '=', 'reviews.id').where('review_groups.group_name', 'in', visibleTo.groups))]
              : []),
          ]),
        );
      }
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.connection !== undefined) query = query.where('connection_name', '=', filter.connection);
      const [page, count] = await Promise.all([
        query.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit + 1).offset(filter.offset).execute(),
        query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { reviews: await withGroups(db, page.slice(0, filter.limit)), total: Number(count.n), hasNextPage: page.length > filter.limit };
    },

    /**
     * Applies a decision: the review row is locked for the transaction, so concurrent decisions
     * (two reviewers at once, on any gateway) see each other's votes. `decide` gets the current
     * review and returns its new state and what happens to the session, or throws to refuse.
     */
    async decide(
      idOrSessionId: string,
      decide: (current: ReviewRecord) => { review: ReviewRecord; session: SessionEffect | undefined },
    ): Promise<ReviewRecord | undefined> {
      return db.transaction().execute(async (tx) => {
        const current = await findIn(tx, idOrSessionId, true);
        if (!current) return undefined;
        const { review, session } = decide(current);
        await tx
          .updateTable('reviews')
          .set({
            status: review.status,
            time_window: review.timeWindow ? JSON.stringify(review.timeWindow) : null,
            rejection_reason: review.rejectionReason,
            revoked_at: review.revokedAt,
          })
          .where('id', '=', review.id)
          .execute();
        for (const [position, group] of review.groups.entries()) {
          const values = {
            status: group.status,
            reviewer_id: group.reviewerId,
            reviewer_email: group.reviewerEmail,
            reviewer_name: group.reviewerName,
            reviewed_at: group.reviewedAt,
            forced_review: group.forcedReview,
          };
          await tx
            .insertInto('review_groups')
            .values({ id: group.id, review_id: review.id, group_name: group.groupName, position, ...values })
            .onConflict((oc) => oc.column('id').doUpdateSet(values))
            .execute();
        }
        if (session?.status === 'ready') {
          await tx.updateTable('sessions').set({ status: 'ready' }).where('id', '=', review.sessionId).where('status', '=', 'open').execute();
        } else if (session) {
          await tx
            .updateTable('sessions')
            .set({ status: 'done', end_reason: session.endReason, ended_at: new Date() })
            .where('id', '=', review.sessionId)
            .where('status', '!=', 'done')
            .execute();
        }
        return review;
      });
    },

    /**
     * Takes an approved one-time review for its run: one conditional UPDATE, so of any number of
     * concurrent callers, on any number of gateways sharing the store, exactly one gets it.
     */
    async claimForExec(id: string): Promise<boolean> {
      const claimed = await db
        .updateTable('reviews')
        .set({ status: 'PROCESSING' })
        .where('id', '=', id)
        .where('type', '=', 'onetime')
        .where('status', '=', 'APPROVED')
        .returning('id')
        .executeTakeFirst();
      return claimed !== undefined;
    },

    async markExecuted(id: string): Promise<boolean> {
      const updated = await db.updateTable('reviews').set({ status: 'EXECUTED' }).where('id', '=', id).where('status', '=', 'PROCESSING').returning('id').executeTakeFirst();
      return updated !== undefined;
    },

    /** Reviews whose run ended while no gateway was watching it (a crash, a stop): EXECUTED now. */
    async settleFinishedRuns(): Promise<string[]> {
      const rows = await db
        .updateTable('reviews')
        .set({ status: 'EXECUTED' })
        .where('status', '=', 'PROCESSING')
        .where((eb) => eb.exists(eb.selectFrom('sessions').select('sessions.id').whereRef('sessions.id', '=', 'reviews.session_id').where('sessions.status', '=', 'done')))
        .returning('id')
        .execute();
      return rows.map((r) => r.id);
    },
  };
}

export type ReviewStore = ReturnType<typeof createReviewStore>;

