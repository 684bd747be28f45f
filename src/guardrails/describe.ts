import type { GuardrailViolation } from './guardrail-types.js';

/**
 * The reference's legacy message for a blocked session (stored as its error), e.g.
 * `Blocked by the following Guardrails rule: match guard rail [InputRules:Sensitive Data Test]
 * rule, type=deny_words_list, words=[DENYWORD]`. SQL rules add what they found: `, sql=[DROP]`.
 * Empty for no violations.
 */
export function describeViolations(violations: readonly GuardrailViolation[]): string {
  const items = violations.map(describeViolation);
  if (items.length === 0) return '';
  if (items.length === 1) return `Blocked by the following Guardrails rule: ${items[0]}`;
  return `Blocked because ${items.length} Guardrails rules were violated: ${items.join('; ')}`;
}

function describeViolation(violation: GuardrailViolation): string {
  const rules = violation.direction === 'input' ? 'InputRules' : 'OutputRules';
  const scope = violation.rule_name ? `${rules}:${violation.rule_name}` : rules;
  const message = violation.message ? `${violation.message}, ` : '';
  return `${message}match guard rail [${scope}] rule, type=${violation.rule.type}${configuration(violation)}`;
}

function configuration({ rule, matched_words }: GuardrailViolation): string {
  if (rule.words?.length) return `, words=[${rule.words.join(' ')}]`;
  if (rule.pattern_regex) return `, patterns=${rule.pattern_regex}`;
  if (rule.type === 'sql' && matched_words.length > 0) return `, sql=[${matched_words.join(', ')}]`;
  return '';
}
