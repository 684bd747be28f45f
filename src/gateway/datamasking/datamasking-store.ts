import { randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { isUniqueViolation, type Db } from '../store/db.js';
import type { DatamaskingRulesTable } from '../store/schema.js';
import type { DataMaskingRuleRecord } from './datamasking-types.js';

export type DataMaskingRuleWrite = Omit<DataMaskingRuleRecord, 'updatedAt'>;
export interface RuleBinding {
  id: string;
  ruleId: string;
  connectionId: string;
  status: 'active' | 'inactive';
}

type Row = Selectable<DatamaskingRulesTable> & { connection_ids: string[] };

function fromRow(row: Row): DataMaskingRuleRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    supportedEntityTypes: row.supported_entity_types as DataMaskingRuleRecord['supportedEntityTypes'],
    customEntityTypes: row.custom_entity_types as DataMaskingRuleRecord['customEntityTypes'],
    scoreThreshold: row.score_threshold,
    attributes: row.attributes,
    connectionIds: row.connection_ids,
    updatedAt: row.updated_at,
  };
}

export function createDataMaskingStore(db: Db) {
  const selectRules = () =>
    db
      .selectFrom('datamasking_rules')
      .selectAll('datamasking_rules')
      .select(
        sql<string[]>`array(select b.connection_id::text from datamasking_rule_connections b where b.rule_id = datamasking_rules.id and b.status = 'active' order by b.connection_id)`.as(
          'connection_ids',
        ),
      );

  const columns = (rule: DataMaskingRuleWrite) => ({
    description: rule.description,
    supported_entity_types: JSON.stringify(rule.supportedEntityTypes),
    custom_entity_types: JSON.stringify(rule.customEntityTypes),
    score_threshold: rule.scoreThreshold,
    attributes: rule.attributes,
    updated_at: new Date(),
  });

  async function bindActive(executor: Db, ruleId: string, connectionIds: string[]): Promise<void> {
    await executor.deleteFrom('datamasking_rule_connections').where('rule_id', '=', ruleId).execute();
    if (connectionIds.length === 0) return;
    await executor
      .insertInto('datamasking_rule_connections')
      .values(connectionIds.map((connectionId) => ({ id: randomUUID(), rule_id: ruleId, connection_id: connectionId, status: 'active' })))
      .execute();
  }

  return {
    async list(): Promise<DataMaskingRuleRecord[]> {
      return (await selectRules().orderBy('name').execute()).map(fromRow);
    },

    async find(id: string): Promise<DataMaskingRuleRecord | undefined> {
      const row = await selectRules().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    /** False when the name is taken. */
    async create(rule: DataMaskingRuleWrite): Promise<boolean> {
      try {
        await db.transaction().execute(async (trx) => {
          await trx.insertInto('datamasking_rules').values({ id: rule.id, name: rule.name, ...columns(rule) }).execute();
          await bindActive(trx, rule.id, rule.connectionIds);
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    /** Replaces everything but the name (immutable) and the bindings; false when the rule does not exist. */
    async update(rule: DataMaskingRuleWrite): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const result = await trx.updateTable('datamasking_rules').set(columns(rule)).where('id', '=', rule.id).executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return false;
        await bindActive(trx, rule.id, rule.connectionIds);
        return true;
      });
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('datamasking_rules').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Of `ids`, those naming an existing connection. */
    async existingConnectionIds(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('connections').select('id').where('id', 'in', ids).execute();
      return new Set(rows.map((r) => r.id));
    },

    /** Of `ids`, those naming an existing rule. */
    async existingRuleIds(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db.selectFrom('datamasking_rules').select('id').where('id', 'in', ids).execute();
      return new Set(rows.map((r) => r.id));
    },

    /** Replaces every binding of a connection, active and inactive. */
    async replaceConnectionBindings(connectionId: string, bindings: { ruleId: string; status: 'active' | 'inactive' }[]): Promise<RuleBinding[]> {
      const created = bindings.map((b) => ({ id: randomUUID(), ruleId: b.ruleId, connectionId, status: b.status }));
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('datamasking_rule_connections').where('connection_id', '=', connectionId).execute();
        if (created.length === 0) return;
        await trx
          .insertInto('datamasking_rule_connections')
          .values(created.map((b) => ({ id: b.id, rule_id: b.ruleId, connection_id: connectionId, status: b.status })))
          .execute();
      });
      return created;
    },

    /** Rules that apply to a connection: bound to it and active, or sharing one of its attributes. */
    async rulesForConnection(connectionId: string, attributes: string[]): Promise<DataMaskingRuleRecord[]> {
      const rows = await selectRules()
        .where((eb) =>
          eb.or([
            eb.exists(
              eb
                .selectFrom('datamasking_rule_connections as b')
                .select('b.id')
                .whereRef('b.rule_id', '=', 'datamasking_rules.id')
                .where('b.connection_id', '=', connectionId)
                .where('b.status', '=', 'active'),
            ),
            ...(attributes.length ? [sql<boolean>`datamasking_rules.attributes && ${sql.val(attributes)}::text[]`] : []),
          ]),
        )
        .orderBy('name')
        .execute();
      return rows.map(fromRow);
    },
  };
}

export type DataMaskingStore = ReturnType<typeof createDataMaskingStore>;
