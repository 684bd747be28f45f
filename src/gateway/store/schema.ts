import type { ColumnType, Generated } from 'kysely';

/** Row shapes of the tables in migrations/, as Kysely sees them. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  user_id: string;
  user_email: string;
  user_name: string;
  groups: string[];
  created_at: Generated<Date>;
  revoked_at: Timestamp | null;
  masked_key: Generated<string>;
  created_by: Generated<string>;
  revoked_by: string | null;
  last_used_at: Timestamp | null;
}

export interface AgentsTable {
  id: string;
  name: string;
  mode: string;
  key_hash: string;
  status: Generated<string>;
  metadata: Json<Record<string, string>>;
  last_seen_at: Timestamp | null;
  created_at: Generated<Date>;
  gateway_id: string | null;
}

export interface ConnectionsTable {
  id: string;
  name: string;
  type: string;
  subtype: string;
  command: string[];
  secret_sealed: Uint8Array | null;
  agent_id: string;
  tags: string[];
  connection_tags: Json<Record<string, string>>;
  access_mode_runbooks: string;
  access_mode_exec: string;
  access_mode_connect: string;
  access_schema: string;
  reviewers: string[];
  redact_types: string[];
  jira_issue_template_id: string | null;
  force_approve_groups: string[];
  access_max_duration: number | null;
  min_review_approvals: number | null;
  mandatory_metadata_fields: string[];
  attributes: string[];
  secrets_updated_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface SessionsTable {
  id: string;
  connection: string;
  connection_type: string;
  connection_subtype: string;
  connection_tags: Json<Record<string, string>>;
  agent_id: string | null;
  verb: string;
  origin: string;
  labels: Json<Record<string, string>>;
  metadata: Json<Record<string, unknown>>;
  integrations_metadata: Json<Record<string, unknown>> | null;
  metrics: Json<Record<string, unknown>> | null;
  user_id: string;
  user_name: string;
  user_email: string;
  status: string;
  exit_code: number | null;
  end_reason: string | null;
  input: Uint8Array;
  session_batch_id: string | null;
  correlation_id: string | null;
  created_at: Timestamp;
  ended_at: Timestamp | null;
  gateway_id: string | null;
  guardrails_info: Json<unknown[]> | null;
}

export interface SessionEventSegmentsTable {
  session_id: string;
  seq: number;
  data: Uint8Array;
}

export interface SessionDownloadTokensTable {
  token_hash: string;
  session_id: string;
  user_id: string;
  options: Json<Record<string, string>>;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface RunbookRepositoriesTable {
  id: string;
  repository: string;
  git_url: string;
  git_branch: string;
  path_prefix: string;
  git_user: string;
  ssh_user: string;
  ssh_known_hosts: string;
  git_hook_ttl: number;
  secrets_sealed: Uint8Array | null;
  position: number;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface RunbookConfigurationTable {
  id: string;
  singleton: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: string;
  subject: string;
  email: string;
  name: string;
  status: string;
  verified: boolean;
  slack_id: string;
  picture: string;
  groups: string[];
  password_hash: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface UserGroupsTable {
  name: string;
  created_at: Generated<Date>;
}

export interface TokenSigningKeysTable {
  id: string;
  singleton: Generated<boolean>;
  public_key: Uint8Array;
  private_key_sealed: Uint8Array;
  created_at: Generated<Date>;
}

export interface OidcLoginsTable {
  state_hash: string;
  code_verifier: string;
  nonce: string;
  redirect_url: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
}

export interface PluginsTable {
  id: string;
  name: string;
  created_at: Generated<Date>;
}

export interface PluginConnectionsTable {
  id: string;
  plugin_name: string;
  connection_id: string;
  config: string[];
  updated_at: Timestamp;
}

export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  events: string[];
  secret_sealed: Uint8Array;
  enabled: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_type: string;
  body: string;
  status: Generated<string>;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  delivered_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ReviewsTable {
  id: string;
  session_id: string;
  type: string;
  status: string;
  connection_id: string;
  connection_name: string;
  input_env_vars_sealed: Uint8Array | null;
  input_env_var_keys: string[];
  input_client_args: string[];
  access_duration_sec: number;
  owner_id: string;
  owner_email: string;
  owner_name: string;
  min_approvals: number | null;
  force_approval_groups: string[];
  time_window: Json<Record<string, unknown>> | null;
  rejection_reason: string | null;
  created_at: Generated<Date>;
  revoked_at: Timestamp | null;
}

export interface ReviewGroupsTable {
  id: string;
  review_id: string;
  group_name: string;
  status: string;
  reviewer_id: string | null;
  reviewer_email: string | null;
  reviewer_name: string | null;
  reviewed_at: Timestamp | null;
  forced_review: Generated<boolean>;
  position: number;
}

export interface DatamaskingRulesTable {
  id: string;
  name: string;
  description: string;
  supported_entity_types: Json<unknown[]>;
  custom_entity_types: Json<unknown[]>;
  score_threshold: number | null;
  attributes: string[];
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface DatamaskingRuleConnectionsTable {
  id: string;
  rule_id: string;
  connection_id: string;
  status: string;
}

export interface GuardrailRulesTable {
  id: string;
  name: string;
  description: string;
  input: Json<unknown>;
  output: Json<unknown>;
  attributes: string[];
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface GuardrailRuleConnectionsTable {
  rule_id: string;
  connection_id: string;
}

export interface SessionMaskingMetricsTable {
  session_id: string;
  info_type: string;
  redact_count: number | string;
  transformed_bytes: number | string;
}

export interface Database {
  api_keys: ApiKeysTable;
  agents: AgentsTable;
  connections: ConnectionsTable;
  sessions: SessionsTable;
  session_event_segments: SessionEventSegmentsTable;
  session_download_tokens: SessionDownloadTokensTable;
  runbook_repositories: RunbookRepositoriesTable;
  runbook_configuration: RunbookConfigurationTable;
  plugins: PluginsTable;
  plugin_connections: PluginConnectionsTable;
  users: UsersTable;
  user_groups: UserGroupsTable;
  token_signing_keys: TokenSigningKeysTable;
  oidc_logins: OidcLoginsTable;
  reviews: ReviewsTable;
  review_groups: ReviewGroupsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  datamasking_rules: DatamaskingRulesTable;
  datamasking_rule_connections: DatamaskingRuleConnectionsTable;
  guardrail_rules: GuardrailRulesTable;
  guardrail_rule_connections: GuardrailRuleConnectionsTable;
  session_masking_metrics: SessionMaskingMetricsTable;
}
