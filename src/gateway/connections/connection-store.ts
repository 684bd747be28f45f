import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { ConnectionsTable } from '../store/schema.js';
import type { ConnectionRecord, ConnectionWrite } from './connection-types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Row = Selectable<ConnectionsTable> & { agent_status: string | null };

function fromRow(row: Row): ConnectionRecord {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    subtype: row.subtype,
    command: row.command,
    secretSealed: row.secret_sealed ? toBuffer(row.secret_sealed) : null,
    agentId: row.agent_id,
    agentStatus: row.agent_status,
    tags: row.tags,
    connectionTags: row.connection_tags,
    accessModeRunbooks: row.access_mode_runbooks,
    accessModeExec: row.access_mode_exec,
    accessModeConnect: row.access_mode_connect,
    accessSchema: row.access_schema,
    reviewers: row.reviewers,
    redactTypes: row.redact_types,
    guardrailRules: row.guardrail_rules,
    jiraIssueTemplateId: row.jira_issue_template_id,
    forceApproveGroups: row.force_approve_groups,
    accessMaxDuration: row.access_max_duration,
    minReviewApprovals: row.min_review_approvals,
    mandatoryMetadataFields: row.mandatory_metadata_fields,
    attributes: row.attributes,
    secretsUpdatedAt: row.secrets_updated_at,
  };
}

function toRow(c: ConnectionWrite) {
  return {
    id: c.id,
    name: c.name,
    type: c.type,
    subtype: c.subtype,
    command: c.command,
    secret_sealed: c.secretSealed,
    agent_id: c.agentId,
    tags: c.tags,
    connection_tags: JSON.stringify(c.connectionTags),
    access_mode_runbooks: c.accessModeRunbooks,
    access_mode_exec: c.accessModeExec,
    access_mode_connect: c.accessModeConnect,
    access_schema: c.accessSchema,
    reviewers: c.reviewers,
    redact_types: c.redactTypes,
    guardrail_rules: c.guardrailRules,
    jira_issue_template_id: c.jiraIssueTemplateId,
    force_approve_groups: c.forceApproveGroups,
    access_max_duration: c.accessMaxDuration,
    min_review_approvals: c.minReviewApprovals,
    mandatory_metadata_fields: c.mandatoryMetadataFields,
    attributes: c.attributes,
    secrets_updated_at: c.secretsUpdatedAt,
    updated_at: new Date(),
  };
}

export function createConnectionStore(db: Db) {
  const selectWithAgent = () =>
    db
      .selectFrom('connections')
      .leftJoin('agents', 'agents.id', 'connections.agent_id')
      .selectAll('connections')
      .select('agents.status as agent_status');

  return {
    async findByNameOrId(nameOrId: string): Promise<ConnectionRecord | undefined> {
      const row = await selectWithAgent()
        .where((eb) =>
          UUID.test(nameOrId)
            ? eb.or([eb('connections.name', '=', nameOrId), eb('connections.id', '=', nameOrId)])
            : eb('connections.name', '=', nameOrId),
        )
        .executeTakeFirst();
      return row && fromRow(row);
    },

    async list(filter: { agentId?: string; type?: string; subtype?: string }): Promise<ConnectionRecord[]> {
      let query = selectWithAgent().orderBy('connections.name');
      if (filter.agentId) query = query.where('connections.agent_id', '=', filter.agentId);
      if (filter.type) query = query.where('connections.type', '=', filter.type);
      if (filter.subtype) query = query.where('connections.subtype', '=', filter.subtype);
      return (await query.execute()).map(fromRow);
    },

    /** Inserts unless the name is taken; answers whether it inserted. */
    async insert(connection: ConnectionWrite): Promise<boolean> {
      const result = await db
        .insertInto('connections')
        .values(toRow(connection))
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async update(connection: ConnectionWrite): Promise<void> {
      await db.updateTable('connections').set(toRow(connection)).where('id', '=', connection.id).execute();
    },

    async deleteByName(name: string): Promise<boolean> {
      const result = await db.deleteFrom('connections').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
