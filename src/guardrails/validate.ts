/**
 * Checks a submitted rule set (`input` or `output` of a guard-rail resource) and returns it
 * normalized: fields of another rule type are accepted only when empty (clients send `"words": []`
 * with a pattern rule) and dropped, statement kinds are upper-cased. Anything else is a
 * GuardrailRuleError naming the path.
 */
import type { DenyWordsRule, GuardrailDirection, GuardrailRule, GuardrailRuleSet, PatternMatchRule, SqlRule } from './guardrail-types.js';
import { GUARDRAIL_LIMITS } from './limits.js';
import { checkPattern, InvalidPatternError } from './regex.js';
import { GuardrailRuleError } from './rule-error.js';
import { parseRelationName, parseSchemaName } from './sql-identifiers.js';
import { canonicalStatementKind } from './sql-statement-kinds.js';

const RULE_TYPES = ['deny_words_list', 'pattern_match', 'sql'] as const;
type RuleType = (typeof RULE_TYPES)[number];

const COMMON_FIELDS = ['type', 'name', 'message'];
const FIELDS_OF: Record<RuleType, readonly string[]> = {
  deny_words_list: ['words'],
  pattern_match: ['pattern_regex'],
  sql: ['deny_statements', 'require_where', 'deny_tables', 'deny_schemas', 'max_statements'],
};
const OWNER_OF = new Map(RULE_TYPES.flatMap((type) => FIELDS_OF[type].map((field) => [field, type] as const)));

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);
const isAbsent = (value: unknown): value is null | undefined => value === undefined || value === null;
const isEmpty = (value: unknown): boolean =>
  isAbsent(value) || value === '' || value === false || (Array.isArray(value) && value.length === 0);

/** `value` absent (undefined or null) is an empty set. */
export function validateRuleSet(value: unknown, field: GuardrailDirection): GuardrailRuleSet {
  if (isAbsent(value)) return { rules: [] };
  if (!isObject(value)) throw new GuardrailRuleError(field, 'must be an object like {"rules": [...]}');
  for (const key of Object.keys(value)) if (key !== 'rules') throw new GuardrailRuleError(field, `unknown field "${key}"`);
  if (isAbsent(value.rules)) return { rules: [] };
  if (!Array.isArray(value.rules)) throw new GuardrailRuleError(`${field}.rules`, 'must be an array');
  if (value.rules.length > GUARDRAIL_LIMITS.rulesPerSet) {
    throw new GuardrailRuleError(`${field}.rules`, `at most ${GUARDRAIL_LIMITS.rulesPerSet} rules (got ${value.rules.length})`);
  }
  return { rules: value.rules.map((rule, i) => validateRule(rule, `${field}.rules[${i}]`, field)) };
}

function validateRule(rule: unknown, path: string, direction: GuardrailDirection): GuardrailRule {
  if (!isObject(rule)) throw new GuardrailRuleError(path, 'must be an object');
  const type = rule.type;
  if (isAbsent(type)) throw new GuardrailRuleError(`${path}.type`, `required: one of ${RULE_TYPES.join(', ')}`);
  if (!RULE_TYPES.includes(type as RuleType)) throw new GuardrailRuleError(`${path}.type`, `unknown rule type ${JSON.stringify(type)}`);
  const ruleType = type as RuleType;
  if (ruleType === 'sql' && direction === 'output') throw new GuardrailRuleError(path, 'sql rules apply to input only');
  for (const [key, value] of Object.entries(rule)) {
    if (COMMON_FIELDS.includes(key) || FIELDS_OF[ruleType].includes(key)) continue;
    const owner = OWNER_OF.get(key);
    if (owner === undefined) throw new GuardrailRuleError(path, `unknown field "${key}"`);
    if (!isEmpty(value)) throw new GuardrailRuleError(`${path}.${key}`, `belongs to ${owner} rules, not ${ruleType}`);
  }
  const common = {
    ...optionalString(rule, 'message', path),
    ...optionalString(rule, 'name', path),
  };
  switch (ruleType) {
    case 'deny_words_list': {
      const words = validateWords(rule.words, `${path}.words`, direction);
      return { type: ruleType, words, ...common } satisfies DenyWordsRule;
    }
    case 'pattern_match': {
      const pattern = validatePattern(rule.pattern_regex, `${path}.pattern_regex`);
      return { type: ruleType, pattern_regex: pattern, ...common } satisfies PatternMatchRule;
    }
    case 'sql':
      return { type: ruleType, ...validateSqlFields(rule, path), ...common } satisfies SqlRule;
  }
}

function optionalString(rule: JsonObject, key: 'message' | 'name', path: string): { message?: string; name?: string } {
  const value = rule[key];
  if (isAbsent(value)) return {};
  if (typeof value !== 'string') throw new GuardrailRuleError(`${path}.${key}`, 'must be a string');
  return { [key]: value };
}

function validateWords(words: unknown, path: string, direction: GuardrailDirection): string[] {
  const list = stringArray(words, path, GUARDRAIL_LIMITS.wordsPerRule, 'words');
  list.forEach((word, i) => {
    if (word.length > GUARDRAIL_LIMITS.wordChars) {
      throw new GuardrailRuleError(`${path}[${i}]`, `at most ${GUARDRAIL_LIMITS.wordChars} characters`);
    }
    if (direction === 'output' && /[\r\n]/.test(word)) {
      throw new GuardrailRuleError(`${path}[${i}]`, 'output is checked line by line, so a word cannot contain a line break');
    }
  });
  if (!list.some((word) => word !== '')) throw new GuardrailRuleError(path, 'at least one non-empty word');
  return list;
}

function validatePattern(pattern: unknown, path: string): string {
  if (isAbsent(pattern)) throw new GuardrailRuleError(path, 'required');
  if (typeof pattern !== 'string') throw new GuardrailRuleError(path, 'must be a string');
  if (pattern === '') throw new GuardrailRuleError(path, 'must not be empty');
  if (pattern.length > GUARDRAIL_LIMITS.patternChars) {
    throw new GuardrailRuleError(path, `at most ${GUARDRAIL_LIMITS.patternChars} characters (got ${pattern.length})`);
  }
  try {
    checkPattern(pattern);
  } catch (error) {
    if (error instanceof InvalidPatternError) throw new GuardrailRuleError(path, error.message);
    throw error;
  }
  return pattern;
}

function validateSqlFields(rule: JsonObject, path: string): Omit<SqlRule, 'type' | 'message' | 'name'> {
  const fields: Omit<SqlRule, 'type' | 'message' | 'name'> = {};
  if (!isAbsent(rule.deny_statements)) {
    const kinds = stringArray(rule.deny_statements, `${path}.deny_statements`, GUARDRAIL_LIMITS.sqlNamesPerRule, 'entries');
    fields.deny_statements = kinds.map((kind, i) => {
      const canonical = canonicalStatementKind(kind);
      if (!canonical) throw new GuardrailRuleError(`${path}.deny_statements[${i}]`, `unknown statement kind ${JSON.stringify(kind)}`);
      return canonical;
    });
  }
  if (!isAbsent(rule.require_where)) {
    if (typeof rule.require_where !== 'boolean') throw new GuardrailRuleError(`${path}.require_where`, 'must be true or false');
    fields.require_where = rule.require_where;
  }
  if (!isAbsent(rule.deny_tables)) fields.deny_tables = sqlNames(rule.deny_tables, `${path}.deny_tables`, parseRelationName);
  if (!isAbsent(rule.deny_schemas)) fields.deny_schemas = sqlNames(rule.deny_schemas, `${path}.deny_schemas`, parseSchemaName);
  if (!isAbsent(rule.max_statements)) {
    const max = rule.max_statements;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
      throw new GuardrailRuleError(`${path}.max_statements`, 'must be a positive integer');
    }
    fields.max_statements = max;
  }
  return fields;
}

function sqlNames(value: unknown, path: string, parse: (name: string) => unknown): string[] {
  const names = stringArray(value, path, GUARDRAIL_LIMITS.sqlNamesPerRule, 'entries');
  return names.map((name, i) => {
    try {
      parse(name);
    } catch (error) {
      throw new GuardrailRuleError(`${path}[${i}]`, (error as Error).message);
    }
    return name.trim();
  });
}

function stringArray(value: unknown, path: string, max: number, what: string): string[] {
  if (!Array.isArray(value)) throw new GuardrailRuleError(path, 'must be an array of strings');
  if (value.length > max) throw new GuardrailRuleError(path, `at most ${max} ${what} (got ${value.length})`);
  value.forEach((item, i) => {
    if (typeof item !== 'string') throw new GuardrailRuleError(`${path}[${i}]`, 'must be a string');
  });
  return value as string[];
}
