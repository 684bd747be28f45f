/** An `sql` rule, decided on the facts of the parsed script (see sql-analysis.ts for what is seen). */
import type { SqlRule } from './guardrail-types.js';
import type { SqlAnalysis } from './sql-analysis.js';
import { parseRelationName, parseSchemaName, showIdentifier, showRelation, type RelationName } from './sql-identifiers.js';

export interface CompiledSqlRule {
  /** What the script does against the rule (the violation's matched_words); empty when it passes. */
  findings(analysis: SqlAnalysis): string[];
}

/** `rule` must have been validated. */
export function compileSqlRule(rule: SqlRule): CompiledSqlRule {
  const deniedKinds = new Set(rule.deny_statements ?? []);
  const deniedTables = (rule.deny_tables ?? []).map(parseRelationName);
  const deniedSchemas = (rule.deny_schemas ?? []).map(parseSchemaName);
  return {
    findings(analysis) {
      if ('unreadable' in analysis) return [analysis.unreadable];
      const { facts } = analysis;
      const found = [...facts.kinds].filter((kind) => deniedKinds.has(kind));
      if (rule.require_where) for (const kind of facts.writesWithoutWhere) found.push(`${kind} without WHERE`);
      for (const table of deniedTables) {
        if (facts.relations.some((relation) => namesTable(relation, table))) found.push(`table ${showRelation(table)}`);
      }
      for (const schema of deniedSchemas) {
        if (facts.schemas.has(schema) || facts.relations.some((relation) => relation.schema === schema)) {
          found.push(`schema ${showIdentifier(schema)}`);
        }
      }
      if (rule.max_statements !== undefined && facts.statementCount > rule.max_statements) {
        found.push(`${facts.statementCount} statements (at most ${rule.max_statements})`);
      }
      return found;
    },
  };
}

/**
 * An unqualified name in the script matches `schema.table` too: which schema it resolves to is
 * decided by the search_path at run time, so the rule fails closed.
 */
function namesTable(relation: RelationName, denied: RelationName): boolean {
  if (relation.name !== denied.name) return false;
  return denied.schema === undefined || relation.schema === undefined || relation.schema === denied.schema;
}
