import { Type, type Static } from 'typebox';
import { StringMap } from '../http/schemas.js';
import { TimeWindow, type ReviewView } from '../reviews/review-types.js';

export const ExecRequest = Type.Object({
  script: Type.Optional(Type.String({ description: 'The input of the execution, sent to stdin' })),
  connection: Type.Optional(Type.String({ description: 'The target connection, by name or id' })),
  client_args: Type.Optional(Type.Array(Type.String(), { description: 'Appended to the connection command' })),
  env_vars: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: 'envvar:NAME or filesystem:NAME with base64 values; never override connection secrets',
    }),
  ),
  labels: Type.Optional(StringMap),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  session_batch_id: Type.Optional(Type.String()),
  correlation_id: Type.Optional(Type.String()),
  access_duration_sec: Type.Optional(
    Type.Integer({ minimum: 0, description: 'On a connection with reviewers: ask for time-bound (jit) access for this many seconds' }),
  ),
  time_window: Type.Optional(TimeWindow),
});
export type ExecRequest = Static<typeof ExecRequest>;

export const ExecResponse = Type.Object(
  {
    session_id: Type.String({ format: 'uuid' }),
    output: Type.String(),
    output_status: Type.Union([Type.Literal('success'), Type.Literal('failed'), Type.Literal('running')]),
    exit_code: Type.Integer(),
    execution_time: Type.Integer({ description: 'Milliseconds' }),
    has_review: Type.Boolean(),
    truncated: Type.Boolean(),
  },
  { $id: 'ExecResponse' },
);
export type ExecResponse = Static<typeof ExecResponse>;

/** An exec answer whose output is produced piece by piece, to be rendered as it is sent. */
export type ExecResult = Omit<ExecResponse, 'output'> & { output: Iterable<string> };

export const SessionView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    org_id: Type.String(),
    connection: Type.String(),
    connection_subtype: Type.String(),
    connection_tags: StringMap,
    resource_name: Type.String(),
    role_name: Type.String(),
    type: Type.String(),
    verb: Type.String(),
    status: Type.String({ description: 'open, ready or done' }),
    user: Type.String({ description: 'The user email' }),
    user_id: Type.String(),
    user_name: Type.String(),
    labels: StringMap,
    metadata: Type.Record(Type.String(), Type.Unknown()),
    integrations_metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    metrics: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    script: Type.Union([Type.Object({ data: Type.String() }), Type.Null()]),
    script_size: Type.Integer(),
    exit_code: Type.Union([Type.Integer(), Type.Null()]),
    end_reason: Type.Union([Type.String(), Type.Null()]),
    review: Type.Union([Type.Ref('Review'), Type.Null()]),
    event_stream: Type.Optional(Type.Array(Type.Unknown())),
    event_size: Type.Integer(),
    session_batch_id: Type.Optional(Type.String()),
    correlation_id: Type.Optional(Type.String()),
    start_date: Type.String(),
    end_date: Type.Union([Type.String(), Type.Null()]),
    guardrails_info: Type.Union([Type.Array(Type.Unknown()), Type.Null()], { description: 'The guard-rail violations that blocked the session, null when none did' }),
    identity_type: Type.String(),
  },
  { $id: 'Session' },
);
/** The review is referenced by schema id (registered with the session routes). */
export type SessionView = Omit<Static<typeof SessionView>, 'review'> & { review: ReviewView | null };
