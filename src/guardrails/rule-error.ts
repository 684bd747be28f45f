/** A rule set that cannot be accepted; `message` is a sentence for the user, starting with the path. */
export class GuardrailRuleError extends Error {
  /** Where in the submitted value the problem is, e.g. `input.rules[0].pattern_regex`. */
  readonly path: string;
  /** The message without the path. */
  readonly problem: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'GuardrailRuleError';
    this.path = path;
    this.problem = problem;
  }
}
