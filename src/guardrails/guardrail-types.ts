/**
 * Guard-rail rules as stored and sent over the API (the reference's rule shape, plus `sql` rules),
 * and the violations a check reports (the reference's `guardrails_info` items).
 */

export interface DenyWordsRule {
  type: 'deny_words_list';
  words: string[];
  message?: string;
  name?: string;
}

export interface PatternMatchRule {
  type: 'pattern_match';
  pattern_regex: string;
  message?: string;
  name?: string;
}

/** Decided on the PostgreSQL parse tree of the whole script; input only. */
export interface SqlRule {
  type: 'sql';
  /** Statement kinds such as DROP or TRUNCATE (see SQL_STATEMENT_KINDS), upper case once validated. */
  deny_statements?: string[];
  /** UPDATE and DELETE must have a WHERE clause. */
  require_where?: boolean;
  /** `table` or `schema.table`, identifiers written as in SQL: unquoted ones fold to lower case. */
  deny_tables?: string[];
  deny_schemas?: string[];
  max_statements?: number;
  message?: string;
  name?: string;
}

export type GuardrailRule = DenyWordsRule | PatternMatchRule | SqlRule;

export interface GuardrailRuleSet {
  rules: GuardrailRule[];
}

/** One guard-rail resource as the engine needs it: its name and its two rule sets. */
export interface GuardrailResource {
  name: string;
  input?: GuardrailRuleSet;
  output?: GuardrailRuleSet;
}

export type GuardrailDirection = 'input' | 'output';

/** One item of a session's `guardrails_info` (reference field names). */
export interface GuardrailViolation {
  /** Name of the guard-rail resource the rule belongs to. */
  rule_name: string;
  /** The rule as configured, without its name and message. */
  rule: ViolatedRule;
  direction: GuardrailDirection;
  /**
   * deny_words_list: the words found; pattern_match: always empty (the matched text may be the
   * very value the rule protects); sql: what was found, e.g. "DROP", "UPDATE without WHERE",
   * "table payroll", "syntax error: …".
   */
  matched_words: string[];
  message?: string;
}

export interface ViolatedRule {
  type: GuardrailRule['type'];
  words?: string[];
  pattern_regex?: string;
  deny_statements?: string[];
  require_where?: boolean;
  deny_tables?: string[];
  deny_schemas?: string[];
  max_statements?: number;
}
