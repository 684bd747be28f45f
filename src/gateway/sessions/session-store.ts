import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { SessionsTable } from '../store/schema.js';
import type { Segment } from '../events/event-log.js';

export interface SessionRecord {
  id: string;
  connection: string;
  connectionType: string;
  connectionSubtype: string;
  connectionTags: Record<string, string>;
  agentId: string | null;
  verb: string;
  origin: string;
  labels: Record<string, string>;
  metadata: Record<string, unknown>;
  integrationsMetadata: Record<string, unknown> | null;
  metrics: Record<string, unknown> | null;
  guardrailsInfo: unknown[] | null;
  userId: string;
  userName: string;
  userEmail: string;
  status: 'open' | 'ready' | 'done';
  exitCode: number | null;
  endReason: string | null;
  scriptSize: number;
  sessionBatchId: string | null;
  correlationId: string | null;
  createdAt: Date;
  endedAt: Date | null;
}

export type NewSession = Omit<SessionRecord, 'status' | 'exitCode' | 'endReason' | 'metrics' | 'guardrailsInfo' | 'endedAt' | 'scriptSize'> & {
  input: Buffer;
};

export interface SessionEnd {
  exitCode: number | null;
  endReason: string | null;
  metrics: Record<string, unknown>;
  /** The guard-rail violations that blocked the session (reference field guardrails_info). */
  guardrailsInfo?: unknown[];
  /** Redactions per info type, kept for the session reports. */
  maskingTotals?: Map<string, { redactCount: number; transformedBytes: number }>;
}

export interface SessionListFilter {
  userId?: string;
  connection?: string;
  type?: string;
  status?: string;
  startDate?: Date;
  endDate?: Date;
  limit: number;
  offset: number;
  /** Restricts to sessions of this user (non-admin callers). */
  visibleTo?: string;
}

const COLUMNS = [
  'id', 'connection', 'connection_type', 'connection_subtype', 'connection_tags', 'agent_id', 'verb', 'origin',
  'labels', 'metadata', 'integrations_metadata', 'metrics', 'guardrails_info', 'user_id', 'user_name', 'user_email', 'status',
  'exit_code', 'end_reason', 'session_batch_id', 'correlation_id', 'created_at', 'ended_at',
] as const;

type Row = Pick<Selectable<SessionsTable>, (typeof COLUMNS)[number]> & { script_size: number };

function fromRow(row: Row): SessionRecord {
  return {
    id: row.id,
    connection: row.connection,
    connectionType: row.connection_type,
    connectionSubtype: row.connection_subtype,
    connectionTags: row.connection_tags,
    agentId: row.agent_id,
    verb: row.verb,
    origin: row.origin,
    labels: row.labels,
    metadata: row.metadata,
    integrationsMetadata: row.integrations_metadata,
    metrics: row.metrics,
    guardrailsInfo: row.guardrails_info,
    userId: row.user_id,
    userName: row.user_name,
    userEmail: row.user_email,
    status: row.status as SessionRecord['status'],
    exitCode: row.exit_code,
    endReason: row.end_reason,
    scriptSize: Number(row.script_size),
    sessionBatchId: row.session_batch_id,
    correlationId: row.correlation_id,
    createdAt: row.created_at,
    endedAt: row.ended_at,
  };
}

/** `gatewayId` names the gateway this store speaks for: it owns the sessions it inserts. */
export function createSessionStore(db: Db, gatewayId: string) {
  const selectSessions = () =>
    db.selectFrom('sessions').select(COLUMNS).select(sql<number>`octet_length(input)`.as('script_size'));

  return {
    async insert(session: NewSession): Promise<void> {
      await db
        .insertInto('sessions')
        .values({
          id: session.id,
          connection: session.connection,
          connection_type: session.connectionType,
          connection_subtype: session.connectionSubtype,
          connection_tags: JSON.stringify(session.connectionTags),
          agent_id: session.agentId,
          verb: session.verb,
          origin: session.origin,
          labels: JSON.stringify(session.labels),
          metadata: JSON.stringify(session.metadata),
          integrations_metadata: session.integrationsMetadata ? JSON.stringify(session.integrationsMetadata) : null,
          user_id: session.userId,
          user_name: session.userName,
          user_email: session.userEmail,
          status: 'open',
          input: session.input,
          session_batch_id: session.sessionBatchId,
          correlation_id: session.correlationId,
          created_at: session.createdAt,
          gateway_id: gatewayId,
        })
        .execute();
    },

    async find(id: string): Promise<SessionRecord | undefined> {
      const row = await selectSessions().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async readInput(id: string): Promise<Buffer | undefined> {
      const row = await db.selectFrom('sessions').select('input').where('id', '=', id).executeTakeFirst();
      return row && toBuffer(row.input);
    },

    /**
     * Closes an open session; answers false when it was already closed. With `lastSegment`, the
     * recording's last segment is stored by the same statement (one round trip and one commit
     * instead of two, on the path of every exec answer), and the masking totals follow it.
     */
    async finish(id: string, end: SessionEnd, lastSegment?: Segment): Promise<boolean> {
      const values = {
        status: 'done',
        exit_code: end.exitCode,
        end_reason: end.endReason,
        metrics: sql<string>`coalesce(metrics, '{}'::jsonb) || ${JSON.stringify(end.metrics)}::jsonb`,
        ...(end.guardrailsInfo ? { guardrails_info: JSON.stringify(end.guardrailsInfo) } : {}),
        ended_at: new Date(),
      };
      const update = lastSegment
        ? db
            .with('segment', (qb) =>
              qb.insertInto('session_event_segments').values({ session_id: id, seq: lastSegment.seq, data: lastSegment.data }),
            )
            .updateTable('sessions')
        : db.updateTable('sessions');
      const result = await update.set(values).where('id', '=', id).where('status', '!=', 'done').executeTakeFirst();
      const closed = Number(result.numUpdatedRows) > 0;
      // Only the call that closed the session writes them, so they are never counted twice.
      if (closed && end.maskingTotals?.size) {
        await db
          .insertInto('session_masking_metrics')
          .values(
            [...end.maskingTotals].map(([infoType, totals]) => ({
              session_id: id,
              info_type: infoType,
              redact_count: totals.redactCount,
              transformed_bytes: totals.transformedBytes,
            })),
          )
          .execute();
      }
      return closed;
    },

    /**
     * An approved session (`ready`) starting its run here: open again, owned by this gateway (so a
     * crash during the run is settled by its next start). False when it was not ready.
     */
    async reopenReady(id: string): Promise<boolean> {
      const result = await db.updateTable('sessions').set({ status: 'open', gateway_id: gatewayId }).where('id', '=', id).where('status', '=', 'ready').executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Sessions this gateway left open when it stopped without closing them (those waiting for a review never ran). */
    async listOwnOpenIds(): Promise<string[]> {
      const rows = await db
        .selectFrom('sessions')
        .select('id')
        .where('status', '=', 'open')
        .where((eb) => eb.or([eb('gateway_id', '=', gatewayId), eb('gateway_id', 'is', null)]))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('reviews').select('reviews.id').whereRef('reviews.session_id', '=', 'sessions.id').where('reviews.status', '=', 'PENDING'))))
        .execute();
      return rows.map((r) => r.id);
    },

    async list(filter: SessionListFilter): Promise<{ sessions: SessionRecord[]; total: number; hasNextPage: boolean }> {
      let query = db.selectFrom('sessions');
      if (filter.visibleTo !== undefined) query = query.where('user_id', '=', filter.visibleTo);
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.connection !== undefined) query = query.where('connection', '=', filter.connection);
      if (filter.type !== undefined) query = query.where('connection_type', '=', filter.type);
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.startDate) query = query.where('created_at', '>=', filter.startDate);
      if (filter.endDate) query = query.where('created_at', '<=', filter.endDate);
      const [page, count] = await Promise.all([
        query
          .select(COLUMNS)
          .select(sql<number>`octet_length(input)`.as('script_size'))
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(filter.limit + 1)
          .offset(filter.offset)
          .execute(),
        query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return {
        sessions: page.slice(0, filter.limit).map(fromRow),
        total: Number(count.n),
        hasNextPage: page.length > filter.limit,
      };
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
