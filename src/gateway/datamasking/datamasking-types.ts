import { Type, type Static } from 'typebox';

/** The data-masking rule resource on the wire, with the reference's field names. */

const SupportedEntityTypesEntry = Type.Object({
  name: Type.String({ description: 'Upper-case name of this group of entity types, e.g. PII' }),
  entity_types: Type.Array(Type.String(), { description: 'Built-in entity types (GCP or Presidio spelling)' }),
});

const CustomEntityTypesEntry = Type.Object({
  name: Type.String({ description: 'Upper-case name; redactions show as [NAME]' }),
  regex: Type.Optional(Type.String({ description: 'Regex (RE2 syntax, which accepts the Python (?P<name>…) and (?i) forms); matched per line' })),
  deny_list: Type.Optional(Type.Array(Type.String(), { description: 'Whole words, case-insensitive' })),
  score: Type.Number({ description: 'Accepted for compatibility; the engine does not score' }),
});

export const DataMaskingRuleRequest = Type.Object({
  name: Type.String({ description: 'Unique; immutable after creation' }),
  description: Type.Optional(Type.String()),
  connection_ids: Type.Optional(Type.Array(Type.String())),
  attributes: Type.Optional(Type.Array(Type.String())),
  supported_entity_types: Type.Optional(Type.Array(SupportedEntityTypesEntry)),
  custom_entity_types: Type.Optional(Type.Array(CustomEntityTypesEntry)),
  score_threshold: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
});
export type DataMaskingRuleRequest = Static<typeof DataMaskingRuleRequest>;

export const DataMaskingRule = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    managed_by: Type.Null(),
    name: Type.String(),
    description: Type.String(),
    connection_ids: Type.Array(Type.String()),
    attributes: Type.Array(Type.String()),
    supported_entity_types: Type.Array(SupportedEntityTypesEntry),
    custom_entity_types: Type.Array(CustomEntityTypesEntry),
    score_threshold: Type.Union([Type.Number(), Type.Null()]),
    updated_at: Type.String(),
  },
  { $id: 'DataMaskingRule' },
);
export type DataMaskingRule = Static<typeof DataMaskingRule>;

export const DataMaskingRuleConnectionRequest = Type.Object({
  rule_id: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
});
export type DataMaskingRuleConnectionRequest = Static<typeof DataMaskingRuleConnectionRequest>;

export const DataMaskingRuleConnection = Type.Object(
  {
    id: Type.String(),
    rule_id: Type.String(),
    connection_id: Type.String(),
    status: Type.String(),
  },
  { $id: 'DataMaskingRuleConnection' },
);
export type DataMaskingRuleConnection = Static<typeof DataMaskingRuleConnection>;

export type SupportedEntityTypes = Static<typeof SupportedEntityTypesEntry>[];
export type CustomEntityTypes = Static<typeof CustomEntityTypesEntry>[];

/** A rule as stored; `connectionIds` lists its active bindings only. */
export interface DataMaskingRuleRecord {
  id: string;
  name: string;
  description: string;
  supportedEntityTypes: SupportedEntityTypes;
  customEntityTypes: CustomEntityTypes;
  scoreThreshold: number | null;
  attributes: string[];
  connectionIds: string[];
  updatedAt: Date;
}
