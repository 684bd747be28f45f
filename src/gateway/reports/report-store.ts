import { sql } from 'kysely';
import type { Db } from '../store/db.js';

export const REPORT_GROUPS = ['connection', 'connection_type', 'id', 'user_email'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

export interface SessionReportFilter {
  groupBy: ReportGroup;
  startDate: Date;
  endDate: Date;
  connection?: string;
  sessionId?: string;
  userEmail?: string;
  verb?: string;
}

export interface SessionReportRow {
  resource: string;
  infoType: string;
  redactTotal: number;
  transformedBytes: number;
}

const GROUP_COLUMNS: Record<ReportGroup, 's.connection' | 's.connection_type' | 's.id' | 's.user_email'> = {
  connection: 's.connection',
  connection_type: 's.connection_type',
  id: 's.id',
  user_email: 's.user_email',
};

export function createReportStore(db: Db) {
  return {
    /** Redactions of sessions started in [startDate, endDate), summed per group and info type. */
    async sessionRedactions(filter: SessionReportFilter): Promise<SessionReportRow[]> {
      const group = GROUP_COLUMNS[filter.groupBy];
      let query = db
        .selectFrom('session_masking_metrics as m')
        .innerJoin('sessions as s', 's.id', 'm.session_id')
        .where('s.created_at', '>=', filter.startDate)
        .where('s.created_at', '<', filter.endDate);
      if (filter.connection !== undefined) query = query.where('s.connection', '=', filter.connection);
      if (filter.sessionId !== undefined) query = query.where('s.id', '=', filter.sessionId);
      if (filter.userEmail !== undefined) query = query.where('s.user_email', '=', filter.userEmail);
      if (filter.verb !== undefined) query = query.where('s.verb', '=', filter.verb);
      const rows = await query
        .select([
          sql<string>`${sql.ref(group)}::text`.as('resource'),
          'm.info_type',
          sql<string>`sum(m.redact_count)`.as('redact_total'),
          sql<string>`sum(m.transformed_bytes)`.as('transformed_bytes'),
        ])
        .groupBy([group, 'm.info_type'])
        .orderBy(group)
        .orderBy('m.info_type')
        .execute();
      return rows.map((r) => ({
        resource: r.resource,
        infoType: r.info_type,
        redactTotal: Number(r.redact_total),
        transformedBytes: Number(r.transformed_bytes),
      }));
    },
  };
}

export type ReportStore = ReturnType<typeof createReportStore>;
