/**
 * The guard rails of one connection, compiled once and shared by its sessions: input checks on
 * the whole script, output checks through a guard per stream.
 */
import type {
  GuardrailDirection,
  GuardrailResource,
  GuardrailRule,
  GuardrailViolation,
  SqlRule,
  ViolatedRule,
} from './guardrail-types.js';
import { LineGuard, OpenGuard, type OutputGuard } from './output-guard.js';
import { GuardrailRuleError } from './rule-error.js';
import { analyzeSql } from './sql-analysis.js';
import { compileSqlRule, type CompiledSqlRule } from './sql-rules.js';
import { TextRules, type TextRule } from './text-rules.js';
import { validateRuleSet } from './validate.js';

export interface CompiledGuardrails {
  readonly hasInputRules: boolean;
  readonly hasOutputRules: boolean;
  /**
   * The violations of a script, in resource and rule order; empty when it may run. Rejects only
   * if the SQL parser cannot be loaded (a broken install), which must not be taken as a pass.
   */
  checkInput(script: Buffer | string): Promise<GuardrailViolation[]>;
  /** A guard for one output stream (stdout and stderr each need their own). */
  createOutputGuard(): OutputGuard;
}

/** A rule and the resource it belongs to (a violation's rule_name). */
interface Owned<R extends GuardrailRule> {
  resource: string;
  rule: R;
}

/** Validates every rule set (throws GuardrailRuleError naming the resource) and compiles them. */
export function compileGuardrails(resources: readonly GuardrailResource[]): CompiledGuardrails {
  const input: Owned<GuardrailRule>[] = [];
  const output: Owned<TextRule>[] = [];
  for (const resource of resources) {
    for (const rule of validated(resource, 'input')) input.push({ resource: resource.name, rule });
    // Validation refuses sql rules in output sets.
    for (const rule of validated(resource, 'output')) output.push({ resource: resource.name, rule: rule as TextRule });
  }
  return new Guardrails(input, output);
}

function validated(resource: GuardrailResource, direction: GuardrailDirection): GuardrailRule[] {
  try {
    return validateRuleSet(resource[direction], direction).rules;
  } catch (error) {
    if (error instanceof GuardrailRuleError) throw new GuardrailRuleError(`guardrail "${resource.name}" ${error.path}`, error.problem);
    throw error;
  }
}

class Guardrails implements CompiledGuardrails {
  readonly hasInputRules: boolean;
  readonly hasOutputRules: boolean;
  private readonly inputText: TextRules;
  private readonly inputTextOwners: Owned<TextRule>[];
  private readonly inputSql: { owner: Owned<SqlRule>; compiled: CompiledSqlRule }[];
  private readonly outputText: TextRules;

  constructor(
    private readonly input: Owned<GuardrailRule>[],
    private readonly output: Owned<TextRule>[],
  ) {
    this.hasInputRules = input.length > 0;
    this.hasOutputRules = output.length > 0;
    this.inputTextOwners = input.filter((owned): owned is Owned<TextRule> => owned.rule.type !== 'sql');
    this.inputText = new TextRules(this.inputTextOwners.map((owned) => owned.rule));
    this.inputSql = input
      .filter((owned): owned is Owned<SqlRule> => owned.rule.type === 'sql')
      .map((owner) => ({ owner, compiled: compileSqlRule(owner.rule) }));
    this.outputText = new TextRules(output.map((owned) => owned.rule));
  }

  async checkInput(script: Buffer | string): Promise<GuardrailViolation[]> {
    const bytes = typeof script === 'string' ? Buffer.from(script, 'utf8') : script;
    const text = typeof script === 'string' ? script : script.toString('utf8');
    const found = new Map<GuardrailRule, string[]>();
    for (const match of this.inputText.check(bytes, text)) found.set(this.inputTextOwners[match.index]!.rule, match.matchedWords);
    if (this.inputSql.length > 0) {
      const analysis = await analyzeSql(text);
      for (const { owner, compiled } of this.inputSql) {
        const findings = compiled.findings(analysis);
        if (findings.length > 0) found.set(owner.rule, findings);
      }
    }
    return this.input.flatMap((owned) => {
      const matched = found.get(owned.rule);
      return matched ? [violation(owned, 'input', matched)] : [];
    });
  }

  createOutputGuard(): OutputGuard {
    if (!this.hasOutputRules) return new OpenGuard();
    return new LineGuard((line) =>
      this.outputText.check(line).map((match) => violation(this.output[match.index]!, 'output', match.matchedWords)),
    );
  }
}

function violation(owned: Owned<GuardrailRule>, direction: GuardrailDirection, matched: string[]): GuardrailViolation {
  const { message, name: _name, ...rule } = owned.rule;
  return {
    rule_name: owned.resource,
    rule: rule satisfies ViolatedRule,
    direction,
    matched_words: matched,
    ...(message ? { message } : {}),
  };
}
