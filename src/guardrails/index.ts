/**
 * Guard-rail engine: validates rule sets, checks scripts (words, RE2 patterns, SQL parse trees)
 * and guards output streams line by line (no I/O, no HTTP, no database).
 */
export { compileGuardrails, type CompiledGuardrails } from './compile.js';
export { describeViolations } from './describe.js';
export type {
  DenyWordsRule,
  GuardrailDirection,
  GuardrailResource,
  GuardrailRule,
  GuardrailRuleSet,
  GuardrailViolation,
  PatternMatchRule,
  SqlRule,
  ViolatedRule,
} from './guardrail-types.js';
export type { OutputGuard, OutputGuardResult } from './output-guard.js';
export { GuardrailRuleError } from './rule-error.js';
export { SQL_STATEMENT_KINDS } from './sql-statement-kinds.js';
export { GUARDRAIL_LIMITS } from './limits.js';
export { validateRuleSet } from './validate.js';
