import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { toBuffer } from '../store/db.js';
import type { ConnectionsTable } from '../store/schema.js';
import type { ConnectionRecord, ConnectionWrite } from './connection-types.js';
import { UUID } from '../ids.js';

type Row = Selectable<ConnectionsTable> & { agent_status: string | null; guardrail_rule_ids: string[] };

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
    guardrailRules: row.guardrail_rule_ids,
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
      .select('agents.status as agent_status')
      .select(
        sql<string[]>`array(select g.rule_id::text from guardrail_rule_connections g where g.connection_id = connections.id order by g.rule_id)`.as(
          'guardrail_rule_ids',
        ),
      );

  /** The connection's guard rails are the join table's rows; ids of rules that do not exist are skipped. */
  async function replaceGuardrailBindings(executor: Db, connectionId: string, ruleIds: string[]): Promise<void> {
    await executor.deleteFrom('guardrail_rule_connections').where('connection_id', '=', connectionId).execute();
    const ids = ruleIds.filter((id) => UUID.test(id));
    if (ids.length === 0) return;
    await executor
      .insertInto('guardrail_rule_connections')
      .columns(['rule_id', 'connection_id'])
      .expression((eb) => eb.selectFrom('guardrail_rules').select(['id', sql<string>`${connectionId}::uuid`.as('connection_id')]).where('id', 'in', ids))
      .execute();
  }

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
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .insertInto('connections')
          .values(toRow(connection))
          .onConflict((oc) => oc.column('name').doNothing())
          .executeTakeFirst();
        const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
        if (inserted) await replaceGuardrailBindings(trx, connection.id, connection.guardrailRules);
        return inserted;
      });
    },

    async update(connection: ConnectionWrite): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await trx.updateTable('connections').set(toRow(connection)).where('id', '=', connection.id).execute();
        await replaceGuardrailBindings(trx, connection.id, connection.guardrailRules);
      });
    },

    async deleteByName(name: string): Promise<boolean> {
      const result = await db.deleteFrom('connections').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
