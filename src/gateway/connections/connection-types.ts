import { Type, type Static } from 'typebox';

/** The connection resource on the wire, with the reference's field names. */

const accessMode = Type.String({ description: '"enabled" or "disabled"' });

export const ConnectionInput = Type.Object({
  name: Type.String({ description: 'Unique name; immutable after creation' }),
  type: Type.String({ description: 'database, application or custom' }),
  subtype: Type.Optional(Type.String()),
  command: Type.Optional(Type.Array(Type.String(), { description: 'argv run on the agent for each exec' })),
  secret: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), {
      description: 'envvar:NAME or filesystem:NAME keys with base64 values; never returned in clear',
    }),
  ),
  agent_id: Type.String({ description: 'The agent that runs this connection' }),
  resource_name: Type.Optional(Type.String()),
  reviewers: Type.Optional(Type.Array(Type.String())),
  redact_types: Type.Optional(Type.Array(Type.String())),
  tags: Type.Optional(Type.Array(Type.String())),
  connection_tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  access_mode_runbooks: Type.Optional(accessMode),
  access_mode_exec: Type.Optional(accessMode),
  access_mode_connect: Type.Optional(accessMode),
  access_schema: Type.Optional(accessMode),
  guardrail_rules: Type.Optional(Type.Array(Type.String())),
  jira_issue_template_id: Type.Optional(Type.String()),
  force_approve_groups: Type.Optional(Type.Array(Type.String())),
  access_max_duration: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  min_review_approvals: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  mandatory_metadata_fields: Type.Optional(Type.Array(Type.String())),
  attributes: Type.Optional(Type.Array(Type.String())),
});
export type ConnectionInput = Static<typeof ConnectionInput>;

export const Connection = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    resource_name: Type.String(),
    type: Type.String(),
    subtype: Type.String(),
    command: Type.Array(Type.String()),
    secret: Type.Record(Type.String(), Type.String(), { description: 'Keys with redacted values' }),
    default_database: Type.String(),
    agent_id: Type.String(),
    status: Type.String({ description: 'online or offline' }),
    managed_by: Type.Union([Type.String(), Type.Null()]),
    reviewers: Type.Array(Type.String()),
    redact_enabled: Type.Boolean(),
    redact_types: Type.Array(Type.String()),
    tags: Type.Array(Type.String()),
    connection_tags: Type.Record(Type.String(), Type.String()),
    access_mode_runbooks: Type.String(),
    access_mode_exec: Type.String(),
    access_mode_connect: Type.String(),
    access_schema: Type.String(),
    guardrail_rules: Type.Array(Type.String()),
    jira_issue_template_id: Type.String(),
    force_approve_groups: Type.Array(Type.String()),
    access_max_duration: Type.Union([Type.Integer(), Type.Null()]),
    min_review_approvals: Type.Union([Type.Integer(), Type.Null()]),
    mandatory_metadata_fields: Type.Array(Type.String()),
    attributes: Type.Array(Type.String()),
    secrets_updated_at: Type.Optional(Type.String()),
  },
  { $id: 'Connection' },
);
export type Connection = Static<typeof Connection>;

/** A connection as stored, with its secrets sealed. */
export interface ConnectionRecord {
  id: string;
  name: string;
  type: string;
  subtype: string;
  command: string[];
  secretSealed: Buffer | null;
  agentId: string;
  agentStatus: string | null;
  tags: string[];
  connectionTags: Record<string, string>;
  accessModeRunbooks: string;
  accessModeExec: string;
  accessModeConnect: string;
  accessSchema: string;
  reviewers: string[];
  redactTypes: string[];
  guardrailRules: string[];
  jiraIssueTemplateId: string | null;
  forceApproveGroups: string[];
  accessMaxDuration: number | null;
  minReviewApprovals: number | null;
  mandatoryMetadataFields: string[];
  attributes: string[];
  secretsUpdatedAt: Date | null;
}

export type ConnectionWrite = Omit<ConnectionRecord, 'agentStatus'>;
