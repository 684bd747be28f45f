import { Type, type Static } from 'typebox';

export const SessionReportQuery = Type.Object({
  group_by: Type.Optional(Type.String({ description: 'connection (default), connection_type, id or user_email' })),
  start_date: Type.Optional(Type.String({ description: 'YYYY-MM-DD (UTC), inclusive; default today' })),
  end_date: Type.Optional(Type.String({ description: 'YYYY-MM-DD (UTC), exclusive; default tomorrow' })),
  connection_name: Type.Optional(Type.String()),
  id: Type.Optional(Type.String({ description: 'A session id' })),
  user_email: Type.Optional(Type.String()),
  verb: Type.Optional(Type.String({ description: 'exec or connect' })),
});
export type SessionReportQuery = Static<typeof SessionReportQuery>;

export const SessionReport = Type.Object(
  {
    items: Type.Array(
      Type.Object({
        resource: Type.String({ description: 'The value of the group_by field' }),
        info_type: Type.String(),
        redact_total: Type.Integer(),
        transformed_bytes: Type.Integer(),
      }),
    ),
    total_redact_count: Type.Integer(),
    total_transformed_bytes: Type.Integer(),
  },
  { $id: 'SessionReport' },
);
export type SessionReport = Static<typeof SessionReport>;
