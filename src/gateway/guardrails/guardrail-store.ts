import { sql, type Selectable } from 'kysely';
import { isUniqueViolation, type Db } from '../store/db.js';
import type { GuardrailRulesTable } from '../store/schema.js';
import type { GuardrailRecord } from './guardrail-types.js';

export type GuardrailWrite = Omit<GuardrailRecord, 'createdAt' | 'updatedAt'>;

type Row = Selectable<GuardrailRulesTable> & { connection_ids: string[] };

function fromRow(row: Row): GuardrailRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    input: row.input as GuardrailRecord['input'],
    output: row.output as GuardrailRecord['output'],
    attributes: row.attributes,
    connectionIds: row.connection_ids,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createGuardrailStore(db: Db) {
  const selectRules = () =>
    db
      .selectFrom('guardrail_rules')
      .selectAll('guardrail_rules')
      .select(
        sql<string[]>`array(select b.connection_id::text from guardrail_rule_connections b where b.rule_id = guardrail_rules.id order by b.connection_id)`.as(
          'connection_ids',
        ),
      );

  const columns = (rule: GuardrailWrite) => ({
    name: rule.name,
    description: rule.description,
    input: JSON.stringify(rule.input),
    output: JSON.stringify(rule.output),
    attributes: rule.attributes,
    updated_at: new Date(),
  });

  /** Binds the rule to those of `connectionIds` that exist (the reference skips the others silently). */
  async function bind(executor: Db, ruleId: string, connectionIds: string[]): Promise<void> {
    await executor.deleteFrom('guardrail_rule_connections').where('rule_id', '=', ruleId).execute();
    if (connectionIds.length === 0) return;
    await executor
      .insertInto('guardrail_rule_connections')
      .columns(['rule_id', 'connection_id'])
      .expression((eb) => eb.selectFrom('connections').select([sql<string>`${ruleId}::uuid`.as('rule_id'), 'id']).where('id', 'in', connectionIds))
      .execute();
  }

  /** Runs a write; false when the name is taken. */
  async function unlessNameTaken(write: () => Promise<boolean>): Promise<boolean | 'conflict'> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) return 'conflict';
      throw error;
    }
  }

  return {
    async list(): Promise<GuardrailRecord[]> {
      return (await selectRules().orderBy('name').execute()).map(fromRow);
    },

    async find(id: string): Promise<GuardrailRecord | undefined> {
      const row = await selectRules().where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async create(rule: GuardrailWrite): Promise<boolean | 'conflict'> {
      return unlessNameTaken(() =>
        db.transaction().execute(async (trx) => {
          await trx.insertInto('guardrail_rules').values({ id: rule.id, ...columns(rule) }).execute();
          await bind(trx, rule.id, rule.connectionIds);
          return true;
        }),
      );
    },

    /** False when the rule does not exist. */
    async update(rule: GuardrailWrite): Promise<boolean | 'conflict'> {
      return unlessNameTaken(() =>
        db.transaction().execute(async (trx) => {
          const result = await trx.updateTable('guardrail_rules').set(columns(rule)).where('id', '=', rule.id).executeTakeFirst();
          if (Number(result.numUpdatedRows) === 0) return false;
          await bind(trx, rule.id, rule.connectionIds);
          return true;
        }),
      );
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('guardrail_rules').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Rules that apply to a connection: bound to it, or sharing one of its attributes. */
    async rulesForConnection(connectionId: string, attributes: string[]): Promise<GuardrailRecord[]> {
      const rows = await selectRules()
        .where((eb) =>
          eb.or([
            eb.exists(
              eb
                .selectFrom('guardrail_rule_connections as b')
                .select('b.rule_id')
                .whereRef('b.rule_id', '=', 'guardrail_rules.id')
                .where('b.connection_id', '=', connectionId),
            ),
            ...(attributes.length ? [sql<boolean>`guardrail_rules.attributes && ${sql.val(attributes)}::text[]`] : []),
          ]),
        )
        .orderBy('name')
        .execute();
      return rows.map(fromRow);
    },
  };
}

export type GuardrailStore = ReturnType<typeof createGuardrailStore>;
