import { Type, type Static } from 'typebox';
import type { GuardrailRuleSet } from '../../guardrails/index.js';

/** The guard-rail resource on the wire, with the reference's field names. */

const RuleSet = Type.Unknown({
  description:
    '{"rules": [...]}; a rule is {"type": "deny_words_list", "words": [...]}, {"type": "pattern_match", "pattern_regex": "..."} (RE2 syntax) ' +
    'or, for input only, {"type": "sql", "deny_statements": ["DROP", ...], "require_where": true, "deny_tables": [...], "deny_schemas": [...], "max_statements": n}; ' +
    'each may carry "name" and "message"',
});

export const GuardrailRequest = Type.Object({
  name: Type.String({ description: 'Unique, at most 128 characters' }),
  description: Type.Optional(Type.String()),
  input: Type.Optional(RuleSet),
  output: Type.Optional(RuleSet),
  connection_ids: Type.Optional(Type.Array(Type.String(), { description: 'Unknown ids and empty strings are skipped' })),
  attributes: Type.Optional(Type.Array(Type.String())),
});
export type GuardrailRequest = Static<typeof GuardrailRequest>;

export const Guardrail = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    input: Type.Unknown(),
    output: Type.Unknown(),
    connection_ids: Type.Array(Type.String()),
    attributes: Type.Array(Type.String()),
    managed_by: Type.Null(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Guardrail' },
);
export type Guardrail = Static<typeof Guardrail>;

export interface GuardrailRecord {
  id: string;
  name: string;
  description: string;
  input: GuardrailRuleSet;
  output: GuardrailRuleSet;
  attributes: string[];
  connectionIds: string[];
  createdAt: Date;
  updatedAt: Date;
}
