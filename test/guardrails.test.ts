import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import {
  GUARDRAIL_LIMITS,
  GuardrailRuleError,
  SQL_STATEMENT_KINDS,
  compileGuardrails,
  describeViolations,
  validateRuleSet,
  type GuardrailResource,
  type GuardrailRule,
  type GuardrailViolation,
  type OutputGuard,
} from '../src/guardrails/index.js';
import { MAX_PIECE_BYTES, pieceEnd } from '../src/masking/pieces.js';

function ruleError(value: unknown, field: 'input' | 'output' = 'input'): string {
  try {
    validateRuleSet(value, field);
  } catch (error) {
    assert.ok(error instanceof GuardrailRuleError, `expected a GuardrailRuleError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected the rule set to be refused');
}

const oneRule = (rule: unknown) => ({ rules: [rule] });

function inputGuard(...rules: GuardrailRule[]) {
  return compileGuardrails([{ name: 'db rules', input: { rules } }]);
}

async function sqlFindings(rule: Omit<Extract<GuardrailRule, { type: 'sql' }>, 'type'>, script: string): Promise<string[]> {
  const violations = await inputGuard({ type: 'sql', ...rule }).checkInput(script);
  assert.ok(violations.length <= 1);
  return violations[0]?.matched_words ?? [];
}

function runGuard(guard: OutputGuard, chunks: readonly Uint8Array[]): { pass: Buffer; violations: GuardrailViolation[] } {
  const pass: Buffer[] = [];
  const violations: GuardrailViolation[] = [];
  for (const result of [...chunks.map((chunk) => guard.write(chunk)), guard.end()]) {
    pass.push(result.pass);
    violations.push(...result.violations);
  }
  return { pass: Buffer.concat(pass), violations };
}

function splitAt(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts)].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(input.subarray(start, point));
    start = point;
  }
  chunks.push(input.subarray(start));
  return chunks;
}

describe('guard rails: validating rule sets', () => {
  it('accepts the reference rule shapes and normalizes them', () => {
    const set = validateRuleSet(
      {
        rules: [
          { type: 'deny_words_list', words: ['DENYWORD'], pattern_regex: '', message: 'no', name: 'words' },
          { type: 'pattern_match', pattern_regex: 'TESKE.*', words: [] },
          {
            type: 'sql',
            deny_statements: ['drop', ' Security   label '],
            require_where: true,
            deny_tables: [' hr.payroll '],
            max_statements: 3,
          },
        ],
      },
      'input',
    );
    assert.deepEqual(set, {
      rules: [
        { type: 'deny_words_list', words: ['DENYWORD'], message: 'no', name: 'words' },
        { type: 'pattern_match', pattern_regex: 'TESKE.*' },
        { type: 'sql', deny_statements: ['DROP', 'SECURITY LABEL'], require_where: true, deny_tables: ['hr.payroll'], max_statements: 3 },
      ],
    });
  });

  it('takes an absent set or absent rules as no rules', () => {
    assert.deepEqual(validateRuleSet(undefined, 'input'), { rules: [] });
    assert.deepEqual(validateRuleSet(null, 'output'), { rules: [] });
    assert.deepEqual(validateRuleSet({}, 'output'), { rules: [] });
  });

  it('names the path and the problem of an invalid regex, with its position', () => {
    assert.equal(
      ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'hello(world' })),
      'input.rules[0].pattern_regex: invalid regex at position 5: missing closing )',
    );
    assert.match(ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'x(y)(z' })), /at position 4: missing closing \)$/);
    assert.match(ruleError(oneRule({ type: 'pattern_match', pattern_regex: '[(]x(' })), /at position 4: missing closing \)$/);
    assert.match(ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'ab[c-' })), /at position 2: missing closing \]/);
    assert.match(ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'ab\\' })), /at position 2: trailing backslash/);
    assert.equal(
      ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'a**' })),
      'input.rules[0].pattern_regex: invalid regex at position 1: invalid nested repetition operator: `**`',
    );
    // RE2 syntax, as the reference (Go): no look-around.
    assert.match(
      ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'a(?=b)' })),
      /at position 1: invalid or unsupported Perl syntax/,
    );
  });

  it('refuses what the reference would store but could never apply', () => {
    assert.equal(ruleError(oneRule({ type: 'foo' })), 'input.rules[0].type: unknown rule type "foo"');
    assert.equal(ruleError(oneRule({ words: ['x'] })), 'input.rules[0].type: required: one of deny_words_list, pattern_match, sql');
    assert.equal(
      ruleError({ rules: [{ type: 'pattern_match', pattern_regex: 'x' }, { type: 'sql' }] }, 'output'),
      'output.rules[1]: sql rules apply to input only',
    );
    assert.equal(ruleError(oneRule({ type: 'deny_words_list', words: ['', ''] })), 'input.rules[0].words: at least one non-empty word');
    assert.equal(ruleError(oneRule({ type: 'deny_words_list', words: [] })), 'input.rules[0].words: at least one non-empty word');
    assert.equal(ruleError(oneRule({ type: 'deny_words_list' })), 'input.rules[0].words: must be an array of strings');
    assert.equal(ruleError(oneRule({ type: 'deny_words_list', words: ['a', 3] })), 'input.rules[0].words[1]: must be a string');
    assert.equal(ruleError(oneRule({ type: 'pattern_match', pattern_regex: '' })), 'input.rules[0].pattern_regex: must not be empty');
    assert.equal(ruleError(oneRule({ type: 'pattern_match' })), 'input.rules[0].pattern_regex: required');
    assert.equal(
      ruleError(oneRule({ type: 'deny_words_list', words: ['ok', 'two\nlines'] }), 'output'),
      'output.rules[0].words[1]: output is checked line by line, so a word cannot contain a line break',
    );
    assert.equal(
      ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'x', words: ['y'] })),
      'input.rules[0].words: belongs to deny_words_list rules, not pattern_match',
    );
    assert.equal(
      ruleError(oneRule({ type: 'deny_words_list', words: ['x'], deny_tables: ['t'] })),
      'input.rules[0].deny_tables: belongs to sql rules, not deny_words_list',
    );
    assert.equal(ruleError(oneRule({ type: 'sql', deny_table: ['t'] })), 'input.rules[0]: unknown field "deny_table"');
    assert.equal(ruleError(oneRule({ type: 'sql', message: 5 })), 'input.rules[0].message: must be a string');
    assert.equal(ruleError({ rule: [] }), 'input: unknown field "rule"');
    assert.equal(ruleError([]), 'input: must be an object like {"rules": [...]}');
    assert.equal(ruleError({ rules: {} }), 'input.rules: must be an array');
    assert.equal(ruleError({ rules: ['x'] }), 'input.rules[0]: must be an object');
  });

  it('checks the fields of SQL rules', () => {
    assert.equal(
      ruleError(oneRule({ type: 'sql', deny_statements: ['DROP', 'DORP'] })),
      'input.rules[0].deny_statements[1]: unknown statement kind "DORP"',
    );
    for (const bad of [0, -1, 1.5, '3', true]) {
      assert.equal(ruleError(oneRule({ type: 'sql', max_statements: bad })), 'input.rules[0].max_statements: must be a positive integer');
    }
    assert.equal(ruleError(oneRule({ type: 'sql', require_where: 'yes' })), 'input.rules[0].require_where: must be true or false');
    assert.match(
      ruleError(oneRule({ type: 'sql', deny_tables: ['ok', 'a..b'] })),
      /^input\.rules\[0\]\.deny_tables\[1\]: "a\.\.b" is not a valid table name/,
    );
    assert.match(ruleError(oneRule({ type: 'sql', deny_tables: ['db.hr.payroll'] })), /deny_tables\[0\]: "db\.hr\.payroll" has 3 parts/);
    assert.match(ruleError(oneRule({ type: 'sql', deny_tables: ['"open'] })), /deny_tables\[0\]: unterminated quoted identifier/);
    assert.match(ruleError(oneRule({ type: 'sql', deny_tables: ['x'.repeat(64)] })), /deny_tables\[0\]: identifier longer than 63 bytes/);
    assert.match(ruleError(oneRule({ type: 'sql', deny_schemas: ['hr.x'] })), /deny_schemas\[0\]: "hr\.x" is not a single schema name/);
  });

  it('enforces the documented limits', () => {
    const manyRules = Array.from({ length: GUARDRAIL_LIMITS.rulesPerSet + 1 }, () => ({ type: 'deny_words_list', words: ['x'] }));
    assert.equal(ruleError({ rules: manyRules }), 'input.rules: at most 100 rules (got 101)');
    assert.doesNotThrow(() => validateRuleSet({ rules: manyRules.slice(1) }, 'input'));
    const words = Array.from({ length: GUARDRAIL_LIMITS.wordsPerRule + 1 }, (_, i) => `w${i}`);
    assert.equal(ruleError(oneRule({ type: 'deny_words_list', words })), 'input.rules[0].words: at most 1000 words (got 1001)');
    assert.equal(
      ruleError(oneRule({ type: 'deny_words_list', words: ['x'.repeat(GUARDRAIL_LIMITS.wordChars + 1)] })),
      'input.rules[0].words[0]: at most 1024 characters',
    );
    assert.equal(
      ruleError(oneRule({ type: 'pattern_match', pattern_regex: 'x'.repeat(GUARDRAIL_LIMITS.patternChars + 1) })),
      'input.rules[0].pattern_regex: at most 4096 characters (got 4097)',
    );
    const longest = 'x'.repeat(GUARDRAIL_LIMITS.patternChars);
    assert.doesNotThrow(() => validateRuleSet(oneRule({ type: 'pattern_match', pattern_regex: longest }), 'input'));
  });

  it('accepts every statement kind in any case, and only those', () => {
    assert.ok(SQL_STATEMENT_KINDS.length > 40);
    const expected = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'DROP', 'TRUNCATE', 'ALTER', 'CREATE', 'GRANT', 'REVOKE'];
    for (const kind of [...expected, 'COPY', 'VACUUM', 'CALL', 'DO', 'SET']) {
      assert.ok(SQL_STATEMENT_KINDS.includes(kind), kind);
    }
    const set = validateRuleSet(oneRule({ type: 'sql', deny_statements: SQL_STATEMENT_KINDS.map((kind) => kind.toLowerCase()) }), 'input');
    assert.deepEqual((set.rules[0] as { deny_statements: string[] }).deny_statements, SQL_STATEMENT_KINDS);
  });

  it('compileGuardrails validates too, naming the resource', () => {
    assert.throws(
      () => compileGuardrails([{ name: 'PII', output: { rules: [{ type: 'pattern_match', pattern_regex: '(' }] } }]),
      (error: unknown) =>
        error instanceof GuardrailRuleError &&
        error.message === 'guardrail "PII" output.rules[0].pattern_regex: invalid regex at position 0: missing closing )',
    );
  });
});

describe('guard rails: input words and patterns', () => {
  it('denies a word as a case-sensitive substring, reporting the words found', async () => {
    const guard = inputGuard({ type: 'deny_words_list', words: ['DENYWORD', 'OTHER', '', 'NOTHERE'] });
    const [violation, ...rest] = await guard.checkInput('select DENYWORDS, OTHER from t');
    assert.equal(rest.length, 0);
    assert.deepEqual(violation, {
      rule_name: 'db rules',
      rule: { type: 'deny_words_list', words: ['DENYWORD', 'OTHER', '', 'NOTHERE'] },
      direction: 'input',
      matched_words: ['DENYWORD', 'OTHER'],
    });
    assert.deepEqual(await guard.checkInput('select denyword from t'), []);
  });

  it('compares words as UTF-8 bytes, scripts given as string or Buffer', async () => {
    const guard = inputGuard({ type: 'deny_words_list', words: ['café'] });
    assert.equal((await guard.checkInput(Buffer.from('SELECT \'café\''))).length, 1);
    assert.equal((await guard.checkInput('SELECT \'café\'')).length, 1);
    assert.equal((await guard.checkInput('SELECT \'cafe\'')).length, 0);
  });

  it('finds many words at once, overlapping ones included', async () => {
    const words = ['he', 'she', 'his', 'hers', ...Array.from({ length: 500 }, (_, i) => `word${i}`)];
    const guard = inputGuard({ type: 'deny_words_list', words });
    const [violation] = await guard.checkInput('ushers and word499');
    // In the rule's order; word499 also contains word4, word49.
    assert.deepEqual(violation?.matched_words, ['he', 'she', 'hers', 'word4', 'word49', 'word499']);
  });

  it('searches a pattern unanchored, never echoing what it matched', async () => {
    const guard = inputGuard({ type: 'pattern_match', pattern_regex: 'TESKE.*', message: 'no TESKE' });
    assert.deepEqual(await guard.checkInput('select 1; -- xxTESKE secret'), [
      {
        rule_name: 'db rules',
        rule: { type: 'pattern_match', pattern_regex: 'TESKE.*' },
        direction: 'input',
        matched_words: [],
        message: 'no TESKE',
      },
    ]);
    assert.deepEqual(await guard.checkInput('select 1'), []);
  });

  it('uses RE2 (Go) defaults: `.` stops at a newline, `^` and `$` are the script bounds', async () => {
    assert.equal((await inputGuard({ type: 'pattern_match', pattern_regex: 'a.c' }).checkInput('a\nc')).length, 0);
    assert.equal((await inputGuard({ type: 'pattern_match', pattern_regex: '(?s)a.c' }).checkInput('a\nc')).length, 1);
    assert.equal((await inputGuard({ type: 'pattern_match', pattern_regex: '^b' }).checkInput('a\nb')).length, 0);
    assert.equal((await inputGuard({ type: 'pattern_match', pattern_regex: '(?m)^b' }).checkInput('a\nb')).length, 1);
  });

  it('evaluates a catastrophic-backtracking pattern in linear time', async () => {
    const guard = inputGuard({ type: 'pattern_match', pattern_regex: '(a+)+$' });
    assert.deepEqual(await guard.checkInput('a'.repeat(50_000) + 'b'), []);
    assert.equal((await guard.checkInput('b' + 'a'.repeat(50_000))).length, 1);
  });

  it('reports every violated rule of every resource, in resource and rule order', async () => {
    const resources: GuardrailResource[] = [
      {
        name: 'first',
        input: { rules: [{ type: 'pattern_match', pattern_regex: 'x{3}' }, { type: 'deny_words_list', words: ['nothing'] }] },
      },
      { name: 'empty', input: { rules: [] }, output: { rules: [] } },
      { name: 'second', input: { rules: [{ type: 'deny_words_list', words: ['xx'], message: 'm' }, { type: 'sql', deny_statements: ['DELETE'] }] } },
    ];
    const guard = compileGuardrails(resources);
    assert.equal(guard.hasInputRules, true);
    assert.equal(guard.hasOutputRules, false);
    const violations = await guard.checkInput('DELETE FROM t WHERE a = \'xxx\'');
    assert.deepEqual(
      violations.map((v) => [v.rule_name, v.rule.type, v.matched_words, v.message]),
      [
        ['first', 'pattern_match', [], undefined],
        ['second', 'deny_words_list', ['xx'], 'm'],
        ['second', 'sql', ['DELETE'], undefined],
      ],
    );
    assert.deepEqual(violations[2]?.rule, { type: 'sql', deny_statements: ['DELETE'] });
  });

  it('has no rules when every set is empty', () => {
    const guard = compileGuardrails([{ name: 'a', input: { rules: [] } }, { name: 'b' }]);
    assert.equal(guard.hasInputRules, false);
    assert.equal(guard.hasOutputRules, false);
  });
});

describe('guard rails: SQL rules on the parse tree', () => {
  it('denies statement kinds whatever the case', async () => {
    assert.deepEqual(await sqlFindings({ deny_statements: ['DROP'] }, 'DROP TABLE payroll'), ['DROP']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['drop'] }, 'select 1;\ndrop table payroll;'), ['DROP']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['DROP'] }, 'SELECT \'DROP TABLE x\' -- drop table y'), []);
    assert.deepEqual(await sqlFindings({ deny_statements: ['TRUNCATE', 'ALTER'] }, 'TRUNCATE t; ALTER TABLE t ADD c int'), ['TRUNCATE', 'ALTER']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['GRANT'] }, 'REVOKE SELECT ON t FROM u'), []);
    assert.deepEqual(await sqlFindings({ deny_statements: ['REVOKE'] }, 'REVOKE SELECT ON t FROM u'), ['REVOKE']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['GRANT'] }, 'GRANT admin TO bob'), ['GRANT']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['BEGIN', 'COMMIT'] }, 'START TRANSACTION; END'), ['BEGIN', 'COMMIT']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['SET', 'RESET'] }, 'SET x = 1; RESET ALL'), ['SET', 'RESET']);
    assert.deepEqual(await sqlFindings({ deny_statements: ['VACUUM', 'ANALYZE'] }, 'ANALYZE t'), ['ANALYZE']);
  });

  it('finds statements nested in other statements', async () => {
    const deny = { deny_statements: ['DELETE', 'UPDATE', 'CREATE'] };
    assert.deepEqual(await sqlFindings(deny, 'WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone'), ['DELETE']);
    assert.deepEqual(await sqlFindings(deny, 'EXPLAIN ANALYZE UPDATE t SET x = 1 WHERE id = 2'), ['UPDATE']);
    assert.deepEqual(await sqlFindings(deny, 'PREPARE p AS DELETE FROM t WHERE id = $1'), ['DELETE']);
    assert.deepEqual(await sqlFindings(deny, 'SELECT * INTO copy_of_t FROM t'), ['CREATE']);
    assert.deepEqual(
      await sqlFindings(deny, 'CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END'),
      ['CREATE', 'DELETE'],
    );
  });

  it('gives every statement of a varied script a known kind', async () => {
    const statements = [
      'SELECT 1', 'VALUES (1)', 'INSERT INTO t VALUES (1)', 'UPDATE t SET a = 1', 'DELETE FROM t', 'MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE',
      'CREATE TABLE z (a int)', 'CREATE INDEX ON t (a)', 'CREATE VIEW v AS SELECT 1', 'CREATE SCHEMA s', 'CREATE ROLE r', 'CREATE EXTENSION e',
      'ALTER TABLE t RENAME TO u', 'ALTER ROLE r SET search_path = x', 'ALTER SYSTEM SET work_mem = 1', 'ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r',
      'DROP TABLE t', 'DROP DATABASE d', 'DROP ROLE r', 'DROP OWNED BY r', 'TRUNCATE t', 'GRANT SELECT ON t TO r', 'REVOKE r FROM u', 'COPY t TO STDOUT',
      'SET x = 1', 'RESET x', 'SHOW x', 'COMMENT ON TABLE t IS NULL', 'SECURITY LABEL ON TABLE t IS NULL', 'DECLARE c CURSOR FOR SELECT 1', 'FETCH c', 'MOVE c',
      'CLOSE c', 'DO $$ BEGIN END $$', 'CALL p()', 'NOTIFY ch', 'LISTEN ch', 'UNLISTEN ch', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT s', 'RELEASE s',
      "PREPARE TRANSACTION 'x'", "COMMIT PREPARED 'x'", "ROLLBACK PREPARED 'x'", "LOAD 'x'", 'CLUSTER t', 'VACUUM t', 'EXPLAIN SELECT 1', 'REFRESH MATERIALIZED VIEW m',
      'CHECKPOINT', 'DISCARD ALL', 'LOCK t', 'REINDEX TABLE t', 'PREPARE q AS SELECT 1', 'EXECUTE q', 'DEALLOCATE q', 'REASSIGN OWNED BY a TO b',
      'IMPORT FOREIGN SCHEMA s FROM SERVER f INTO x', 'SET CONSTRAINTS ALL DEFERRED',
    ];
    for (const statement of statements) {
      assert.notDeepEqual(await sqlFindings({ deny_statements: [...SQL_STATEMENT_KINDS] }, statement), [], statement);
    }
  });

  it('requires a WHERE on UPDATE and DELETE, nested ones included', async () => {
    const rule = { require_where: true };
    assert.deepEqual(await sqlFindings(rule, 'DELETE FROM t'), ['DELETE without WHERE']);
    assert.deepEqual(await sqlFindings(rule, 'DELETE FROM t WHERE id = 1'), []);
    assert.deepEqual(await sqlFindings(rule, 'UPDATE t SET x = 1'), ['UPDATE without WHERE']);
    assert.deepEqual(await sqlFindings(rule, 'update t set x = 1 where id in (select id from u)'), []);
    assert.deepEqual(await sqlFindings(rule, 'WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT * FROM x'), ['UPDATE without WHERE']);
    assert.deepEqual(await sqlFindings(rule, 'SELECT 1; DELETE FROM a; UPDATE b SET c = 1'), ['DELETE without WHERE', 'UPDATE without WHERE']);
    assert.deepEqual(await sqlFindings({ require_where: false }, 'DELETE FROM t'), []);
  });

  it('does not see inside DO blocks and function bodies written as strings', async () => {
    const rule = { require_where: true, deny_statements: ['DROP'], deny_tables: ['payroll'] };
    assert.deepEqual(await sqlFindings(rule, 'DO $$ BEGIN UPDATE payroll SET x = 1; DROP TABLE t; END $$'), []);
    assert.deepEqual(await sqlFindings({ deny_statements: ['DO'] }, 'DO $$ BEGIN UPDATE payroll SET x = 1; END $$'), ['DO']);
  });

  it('finds a denied table wherever the tree names it', async () => {
    const rule = { deny_tables: ['payroll'] };
    for (const script of [
      'SELECT * FROM payroll',
      'SELECT * FROM a JOIN payroll p ON p.id = a.id',
      'SELECT * FROM a WHERE id IN (SELECT id FROM payroll)',
      'WITH p AS (SELECT * FROM payroll) SELECT * FROM p',
      'INSERT INTO audit SELECT * FROM hr.payroll',
      'DROP TABLE IF EXISTS other, payroll',
      'COPY payroll TO STDOUT',
      'TABLE PayRoll',
      'COMMENT ON COLUMN hr.payroll.salary IS NULL',
      'DROP TRIGGER trg ON payroll',
      'GRANT SELECT ON payroll TO u',
      'VACUUM payroll',
    ]) {
      assert.deepEqual(await sqlFindings(rule, script), ['table payroll'], script);
    }
    assert.deepEqual(await sqlFindings(rule, 'SELECT payroll FROM payroll_history'), []);
  });

  it('folds unquoted identifiers to lower case, as PostgreSQL does', async () => {
    assert.deepEqual(await sqlFindings({ deny_tables: ['Payroll'] }, 'select * from PAYROLL'), ['table payroll']);
    assert.deepEqual(await sqlFindings({ deny_tables: ['Payroll'] }, 'select * from "Payroll"'), []);
    assert.deepEqual(await sqlFindings({ deny_tables: ['"Payroll"'] }, 'select * from "Payroll"'), ['table "Payroll"']);
    assert.deepEqual(await sqlFindings({ deny_tables: ['"Payroll"'] }, 'select * from Payroll'), []);
    assert.deepEqual(await sqlFindings({ deny_tables: ['"a""b"'] }, 'select * from "a""b"'), ['table "a""b"']);
  });

  it('matches schema.table entries against qualified and unqualified names', async () => {
    const rule = { deny_tables: ['hr.payroll'] };
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM hr.payroll'), ['table hr.payroll']);
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM "hr"."payroll"'), ['table hr.payroll']);
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM mydb.hr.payroll'), ['table hr.payroll']);
    // Which schema an unqualified name means depends on the search_path: fail closed.
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM payroll'), ['table hr.payroll']);
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM public.payroll'), []);
    assert.deepEqual(await sqlFindings(rule, 'DROP TABLE hr.payroll'), ['table hr.payroll']);
  });

  it('denies schemas named by qualified names, schema statements and the search_path', async () => {
    const rule = { deny_schemas: ['hr'] };
    for (const script of [
      'SELECT * FROM hr.payroll',
      'SELECT * FROM x JOIN HR.y ON true',
      'DROP SCHEMA hr CASCADE',
      'CREATE SCHEMA hr',
      'ALTER SCHEMA hr RENAME TO hr2',
      'GRANT USAGE ON SCHEMA hr TO u',
      'GRANT SELECT ON ALL TABLES IN SCHEMA hr TO u',
      'ALTER TABLE t SET SCHEMA hr',
      'SELECT hr.raise(1)',
      'DROP FUNCTION hr.raise(int)',
      'DROP TYPE hr.grade',
      'SET search_path = hr',
      "SET search_path TO 'public, HR'",
      'ALTER DEFAULT PRIVILEGES IN SCHEMA hr GRANT SELECT ON TABLES TO u',
    ]) {
      assert.deepEqual(await sqlFindings(rule, script), ['schema hr'], script);
    }
    assert.deepEqual(await sqlFindings(rule, 'SELECT * FROM payroll'), []);
    assert.deepEqual(await sqlFindings({ deny_schemas: ['pg_catalog'] }, 'SELECT extract(year FROM now())'), []);
    assert.deepEqual(await sqlFindings({ deny_schemas: ['pg_catalog'] }, 'SELECT * FROM pg_catalog.pg_authid'), ['schema pg_catalog']);
  });

  it('limits the number of statements', async () => {
    assert.deepEqual(await sqlFindings({ max_statements: 2 }, 'SELECT 1; SELECT 2;'), []);
    assert.deepEqual(await sqlFindings({ max_statements: 2 }, 'SELECT 1; SELECT 2;; SELECT 3'), ['3 statements (at most 2)']);
    assert.deepEqual(await sqlFindings({ max_statements: 1 }, ''), []);
    assert.deepEqual(await sqlFindings({ max_statements: 1 }, '-- only a comment\n'), []);
  });

  it('reports all its findings in one violation', async () => {
    const rule = { deny_statements: ['DROP', 'TRUNCATE'], require_where: true, deny_tables: ['payroll', 'audit'], deny_schemas: ['hr'], max_statements: 2 };
    assert.deepEqual(await sqlFindings(rule, 'TRUNCATE hr.payroll; DELETE FROM x; DROP TABLE y'), [
      'TRUNCATE',
      'DROP',
      'DELETE without WHERE',
      'table payroll',
      'schema hr',
      '3 statements (at most 2)',
    ]);
  });

  it('fails closed on a script that does not parse, for every SQL rule', async () => {
    const guard = inputGuard({ type: 'sql', deny_statements: ['DROP'] }, { type: 'deny_words_list', words: ['zzz'] }, { type: 'sql', max_statements: 10 });
    const violations = await guard.checkInput('\\d payroll');
    assert.equal(violations.length, 2);
    for (const violation of violations) {
      assert.equal(violation.rule.type, 'sql');
      assert.deepEqual(violation.matched_words, ['syntax error: syntax error at or near "\\" (position 0)']);
    }
    const [unterminated] = await guard.checkInput("SELECT 'abc");
    assert.match(unterminated!.matched_words[0]!, /^syntax error: unterminated quoted string at or near "'abc" \(position 7\)$/);
    assert.equal((await guard.checkInput('SELECT 1')).length, 0);
  });

  it('refuses a NUL character, which would hide the rest of the script from the parser', async () => {
    assert.deepEqual(await sqlFindings({ deny_statements: ['DROP'] }, 'SELECT 1;\0 DROP TABLE payroll'), [
      'syntax error: the script contains a NUL character',
    ]);
  });

  it('fails closed on a script too large to parse safely', async () => {
    const largest = 'SELECT 1;' + ' '.repeat(GUARDRAIL_LIMITS.sqlScriptBytes - 9);
    assert.deepEqual(await sqlFindings({ max_statements: 1 }, largest), []);
    assert.deepEqual(await sqlFindings({ max_statements: 1 }, `${largest} `), [
      `script too large for SQL rules: ${GUARDRAIL_LIMITS.sqlScriptBytes + 1} bytes (at most ${GUARDRAIL_LIMITS.sqlScriptBytes})`,
    ]);
  });

  it('walks deeply nested scripts', async () => {
    const depth = 500;
    const script = `SELECT ${'('.repeat(depth)}(SELECT id FROM payroll)${')'.repeat(depth)}`;
    assert.deepEqual(await sqlFindings({ deny_tables: ['payroll'] }, script), ['table payroll']);
  });
});

describe('guard rails: output guard', () => {
  const outputGuard = (...rules: GuardrailRule[]) => compileGuardrails([{ name: 'out', output: { rules } }]);

  it('passes clean lines as soon as they are complete and holds the rest', () => {
    const guard = outputGuard({ type: 'deny_words_list', words: ['SECRET'] }).createOutputGuard();
    assert.equal(guard.write(Buffer.from('one\ntw')).pass.toString(), 'one\n');
    assert.equal(guard.write(Buffer.from('o')).pass.toString(), '');
    assert.equal(guard.write(Buffer.from('\nthree')).pass.toString(), 'two\n');
    assert.deepEqual(guard.end(), { pass: Buffer.from('three'), violations: [] });
    assert.deepEqual(guard.end(), { pass: Buffer.alloc(0), violations: [] });
    assert.throws(() => guard.write(Buffer.from('x')), /already ended/);
  });

  it('stops at the line that violates a rule, and withholds everything after it', () => {
    const compiled = outputGuard({ type: 'deny_words_list', words: ['SECRET', 'OTHER'], message: 'no secrets' }, { type: 'pattern_match', pattern_regex: 'CRE' });
    const guard = compiled.createOutputGuard();
    const first = guard.write(Buffer.from('clean\nhas SE'));
    assert.equal(first.pass.toString(), 'clean\n');
    const second = guard.write(Buffer.from('CRET and OTHER\nafter\n'));
    assert.equal(second.pass.toString(), '');
    assert.deepEqual(second.violations, [
      { rule_name: 'out', rule: { type: 'deny_words_list', words: ['SECRET', 'OTHER'] }, direction: 'output', matched_words: ['SECRET', 'OTHER'], message: 'no secrets' },
      { rule_name: 'out', rule: { type: 'pattern_match', pattern_regex: 'CRE' }, direction: 'output', matched_words: [] },
    ]);
    assert.deepEqual(guard.write(Buffer.from('more\n')), { pass: Buffer.alloc(0), violations: [] });
    assert.deepEqual(guard.end(), { pass: Buffer.alloc(0), violations: [] });
  });

  it('checks the last line when the stream ends without a newline', () => {
    const result = runGuard(outputGuard({ type: 'deny_words_list', words: ['END'] }).createOutputGuard(), [Buffer.from('a\nthe END')]);
    assert.equal(result.pass.toString(), 'a\n');
    assert.equal(result.violations.length, 1);
  });

  it('gives patterns the line without its terminator: ^ and $ are the line bounds', () => {
    const guard = () => outputGuard({ type: 'pattern_match', pattern_regex: '^total: \\d+$' }).createOutputGuard();
    assert.equal(runGuard(guard(), [Buffer.from('x\ntotal: 12\r\ny\n')]).pass.toString(), 'x\n');
    assert.equal(runGuard(guard(), [Buffer.from('x\ntotal: 12\ny\n')]).pass.toString(), 'x\n');
    assert.equal(runGuard(guard(), [Buffer.from('x\nthe total: 12\n')]).violations.length, 0);
  });

  it('checks a line longer than MAX_PIECE_BYTES in pieces, passing them as they are decided', () => {
    const guard = outputGuard({ type: 'deny_words_list', words: ['SECRET'] }).createOutputGuard();
    let written = 0;
    let passed = 0;
    for (const size of [MAX_PIECE_BYTES * 3, 7, 1, MAX_PIECE_BYTES - 1, 5000]) {
      const chunk = Buffer.from('x'.repeat(size));
      for (let i = 0; i < 2000 && i * size < 200_000; i++) {
        passed += guard.write(chunk).pass.length;
        written += size;
        // Memory is bounded: at most one piece is ever held back.
        assert.ok(written - passed <= MAX_PIECE_BYTES, `${written - passed} bytes held`);
      }
    }
    const text = 'y'.repeat(MAX_PIECE_BYTES * 2) + ' SECRET ' + 'y'.repeat(100) + '\n';
    const result = runGuard(outputGuard({ type: 'deny_words_list', words: ['SECRET'] }).createOutputGuard(), [Buffer.from(text)]);
    assert.equal(result.violations.length, 1);
    assert.ok(result.pass.length < text.length);
  });

  it('may miss a value that straddles the cut of a long line (documented)', () => {
    const text = 'x'.repeat(MAX_PIECE_BYTES - 3) + 'SECRET' + 'y'.repeat(10);
    assert.equal(pieceEnd(text, 0), MAX_PIECE_BYTES, 'the cut falls inside the word');
    const result = runGuard(outputGuard({ type: 'deny_words_list', words: ['SECRET'] }).createOutputGuard(), [Buffer.from(text)]);
    assert.equal(result.violations.length, 0);
  });

  it('lets everything through at once when there are no output rules', () => {
    const guard = compileGuardrails([{ name: 'in only', input: { rules: [{ type: 'deny_words_list', words: ['x'] }] } }]).createOutputGuard();
    assert.equal(guard.write(Buffer.from('no newline yet')).pass.toString(), 'no newline yet');
  });

  it('any split of the output into chunks gives the same result as one chunk', () => {
    const compiled = outputGuard(
      { type: 'deny_words_list', words: ['SECRET', 'é€'] },
      { type: 'pattern_match', pattern_regex: '^k[0-9]{2}$' },
      { type: 'pattern_match', pattern_regex: 'a\\sb' },
    );
    const piece = fc.oneof(
      fc.constantFrom('SECRET', 'SEC', 'RET', 'é€', 'k12', 'k1', 'a b', '\n', '\r\n', ' ', ',', 'x'),
      fc.string({ maxLength: 8 }),
      fc.constantFrom('z'.repeat(MAX_PIECE_BYTES - 2), 'w'.repeat(MAX_PIECE_BYTES + 5), `${'v'.repeat(3000)},${'u'.repeat(3000)}`),
    );
    const input = fc.array(piece, { maxLength: 30 }).map((pieces) => Buffer.from(pieces.join('')));
    const withCuts = input.chain((bytes) => fc.record({ bytes: fc.constant(bytes), cuts: fc.array(fc.nat(bytes.length), { maxLength: 25 }) }));
    fc.assert(
      fc.property(withCuts, ({ bytes, cuts }) => {
        const whole = runGuard(compiled.createOutputGuard(), [bytes]);
        const split = runGuard(compiled.createOutputGuard(), splitAt(bytes, cuts));
        assert.deepEqual(split.violations, whole.violations);
        assert.ok(split.pass.equals(whole.pass));
        assert.ok(bytes.subarray(0, whole.pass.length).equals(whole.pass), 'what passes is a prefix of the output');
        if (whole.violations.length === 0) assert.equal(whole.pass.length, bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('pattern rules give the same answer as RE2 on each line', () => {
    const patterns = fc.constantFrom('a+b', '^ab', 'b$', '(a|b)c', '[^a]b', 'a{2,}', '\\bab\\b', 'a.*b', '(?i)AB', 'x*');
    const line = fc.stringMatching(/^[abcx ]{0,12}$/);
    fc.assert(
      fc.property(fc.uniqueArray(patterns, { minLength: 1, maxLength: 4 }), line, (list, text) => {
        const compiled = outputGuard(...list.map((pattern_regex): GuardrailRule => ({ type: 'pattern_match', pattern_regex })));
        const found = runGuard(compiled.createOutputGuard(), [Buffer.from(`${text}\n`)]).violations.map((v) => v.rule.pattern_regex);
        assert.deepEqual(found, list.filter((pattern) => RE2JS.compile(pattern).test(text)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('guard rails: the legacy message', () => {
  const info = (violation: Partial<GuardrailViolation> & Pick<GuardrailViolation, 'rule'>): GuardrailViolation => ({
    rule_name: 'Sensitive Data Test',
    direction: 'input',
    matched_words: [],
    ...violation,
  });

  it('describes one violation as the reference does', () => {
    assert.equal(
      describeViolations([info({ rule: { type: 'deny_words_list', words: ['DENYWORD'] }, matched_words: ['DENYWORD'] })]),
      'Blocked by the following Guardrails rule: match guard rail [InputRules:Sensitive Data Test] rule, type=deny_words_list, words=[DENYWORD]',
    );
    assert.equal(
      describeViolations([
        info({
          rule_name: 'PII Guard',
          direction: 'output',
          rule: { type: 'pattern_match', pattern_regex: '[A-Z0-9]+' },
          message: "This response was blocked by your organization's data policy",
        }),
      ]),
      "Blocked by the following Guardrails rule: This response was blocked by your organization's data policy, match guard rail [OutputRules:PII Guard] rule, type=pattern_match, patterns=[A-Z0-9]+",
    );
    assert.equal(
      describeViolations([info({ rule_name: '', rule: { type: 'deny_words_list' } })]),
      'Blocked by the following Guardrails rule: match guard rail [InputRules] rule, type=deny_words_list',
    );
  });

  it('describes several violations as the reference does, SQL findings included', () => {
    assert.equal(
      describeViolations([
        info({ rule: { type: 'deny_words_list', words: ['DENYWORD', 'OTHER'] }, matched_words: ['DENYWORD'], message: "You can't use DENYWORD here" }),
        info({ direction: 'output', rule: { type: 'deny_words_list', words: ['OPENAI'] }, matched_words: ['OPENAI'] }),
        info({ rule: { type: 'pattern_match', pattern_regex: 'TESKE.*' } }),
        info({ rule: { type: 'sql', deny_statements: ['DROP'], deny_tables: ['payroll'] }, matched_words: ['DROP', 'table payroll'] }),
      ]),
      'Blocked because 4 Guardrails rules were violated: ' +
        "You can't use DENYWORD here, match guard rail [InputRules:Sensitive Data Test] rule, type=deny_words_list, words=[DENYWORD OTHER]; " +
        'match guard rail [OutputRules:Sensitive Data Test] rule, type=deny_words_list, words=[OPENAI]; ' +
        'match guard rail [InputRules:Sensitive Data Test] rule, type=pattern_match, patterns=TESKE.*; ' +
        'match guard rail [InputRules:Sensitive Data Test] rule, type=sql, sql=[DROP, table payroll]',
    );
    assert.equal(describeViolations([]), '');
  });

  it('describes what checkInput reports', async () => {
    const guard = compileGuardrails([{ name: 'Sensitive Data Test', input: { rules: [{ type: 'deny_words_list', words: ['DENYWORD'] }] } }]);
    assert.equal(
      describeViolations(await guard.checkInput('echo DENYWORD')),
      'Blocked by the following Guardrails rule: match guard rail [InputRules:Sensitive Data Test] rule, type=deny_words_list, words=[DENYWORD]',
    );
  });
});
