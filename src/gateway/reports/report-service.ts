import { BadRequestError } from '../../errors.js';
import { REPORT_GROUPS, type ReportGroup, type ReportStore } from './report-store.js';
import type { SessionReport, SessionReportQuery } from './report-types.js';
import { UUID } from '../ids.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** A YYYY-MM-DD date as UTC midnight. */
function parseDate(value: string, field: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : undefined;
  if (!date || date.toISOString().slice(0, 10) !== value) throw new BadRequestError(`${field} must be a date as YYYY-MM-DD`);
  return date;
}

export interface ReportServiceDeps {
  store: Pick<ReportStore, 'sessionRedactions'>;
  now?: () => Date;
}

export function createReportService(deps: ReportServiceDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    /** Redactions grouped by `group_by` and info type, over sessions started in [start_date, end_date). */
    async sessions(query: SessionReportQuery): Promise<SessionReport> {
      const today = parseDate(now().toISOString().slice(0, 10), 'today');
      const startDate = query.start_date ? parseDate(query.start_date, 'start_date') : today;
      const endDate = query.end_date ? parseDate(query.end_date, 'end_date') : new Date(today.getTime() + DAY_MS);
      if (endDate < startDate) throw new BadRequestError('end_date must not be before start_date');
      const groupBy = (query.group_by ?? 'connection') as ReportGroup;
      if (!REPORT_GROUPS.includes(groupBy)) throw new BadRequestError(`group_by must be one of ${REPORT_GROUPS.join(', ')}`);
      if (query.id !== undefined && !UUID.test(query.id)) throw new BadRequestError('id must be a session id (UUID)');
      if (query.verb !== undefined && query.verb !== 'exec' && query.verb !== 'connect') throw new BadRequestError('verb must be exec or connect');
      const rows = await deps.store.sessionRedactions({
        groupBy,
        startDate,
        endDate,
        connection: query.connection_name,
        sessionId: query.id,
        userEmail: query.user_email,
        verb: query.verb,
      });
      return {
        items: rows.map((r) => ({ resource: r.resource, info_type: r.infoType, redact_total: r.redactTotal, transformed_bytes: r.transformedBytes })),
        total_redact_count: rows.reduce((sum, r) => sum + r.redactTotal, 0),
        total_transformed_bytes: rows.reduce((sum, r) => sum + r.transformedBytes, 0),
      };
    },
  };
}

export type ReportService = ReturnType<typeof createReportService>;
