import { Type } from 'typebox';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { ReportService } from './report-service.js';
import { SessionReport, SessionReportQuery } from './report-types.js';

export function registerReportRoutes(app: App, reports: ReportService): void {
  app.addSchema(SessionReport);
  app.get(
    '/api/reports/sessions',
    {
      config: { role: 'adminAndAuditor' },
      schema: {
        tags: ['Reports'],
        summary: 'Session Reports',
        description: 'Redactions of the data masking engine, summed per group_by value and info type, over sessions started in the date range.',
        querystring: SessionReportQuery,
        response: { 200: Type.Ref('SessionReport'), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => reports.sessions(request.query),
  );
}
