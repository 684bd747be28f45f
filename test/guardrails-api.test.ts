import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, STORES, type Cluster } from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';

/**
 * Guard rails end to end: real gateway and agent processes. Input rules stop a script before
 * the agent runs it; output rules stop a session at the first offending line; SQL rules decide
 * on PostgreSQL's parse of the script and are checked against a real database.
 */

const TEST_DB = 'postgresql://postgres@127.0.0.1:5432/test';

for (const store of STORES) {
  describe(`guard rails (${store})`, () => {
    let cluster: Cluster;
    const table = `gh_guard_${randomBytes(4).toString('hex')}`;

    before(async () => {
      cluster = await startCluster(store);
      await queryDatabase(TEST_DB, `CREATE TABLE ${table} (id int, name text)`);
      await queryDatabase(TEST_DB, `INSERT INTO ${table} VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    });

    after(async () => {
      await queryDatabase(TEST_DB, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await cluster?.stop();
    });

    const createRule = async (body: Record<string, unknown>) => {
      const created = await cluster.api('POST', '/api/guardrails', body);
      assert.equal(created.status, 201, created.text);
      return created.body as { id: string; connection_ids: string[] };
    };

    it('validates rules when they are saved: a bad regex answers 400 with its position', async () => {
      const post = (extra: Record<string, unknown>) => cluster.api('POST', '/api/guardrails', { name: 'g-invalid', ...extra });
      assertErrorBody(await post({ input: { rules: [{ type: 'pattern_match', pattern_regex: 'abc(def' }] } }), 400, /^input\.rules\[0\]\.pattern_regex: .*position/);
      assertErrorBody(await post({ input: { rules: [{ type: 'shout' }] } }), 400, /^input\.rules\[0\]\.type/);
      assertErrorBody(await post({ output: { rules: [{ type: 'sql', deny_statements: ['DROP'] }] } }), 400, /^output\.rules\[0\]/);
      assertErrorBody(await post({ input: { rules: [{ type: 'sql', deny_statements: ['DORP'] }] } }), 400, /DORP/);
      assertErrorBody(await post({ name: '' }), 400, /name is required/);
      const unknownConnection = await createRule({ name: 'g-skip', connection_ids: ['6f1f3a52-8d7c-4c1e-9a51-1b7f0f9a0c11', ''], input: { rules: [] } });
      assert.deepEqual(unknownConnection.connection_ids, []);
      assertErrorBody(await cluster.api('POST', '/api/guardrails', { name: 'g-skip' }), 409, 'resource already exists');
      assertErrorBody(await cluster.api('GET', '/api/guardrails/6f1f3a52-8d7c-4c1e-9a51-1b7f0f9a0c11'), 404, 'resource not found');
      assert.equal((await cluster.api('DELETE', `/api/guardrails/${unknownConnection.id}`)).status, 204);
      assertErrorBody(await cluster.api('DELETE', `/api/guardrails/${unknownConnection.id}`), 404, 'resource not found');
    });

    it('binds rules from either side: the rule and the connection show the same binding', async () => {
      const conn = await cluster.createConnection('g-bind');
      const rule = await createRule({ name: 'g-bind-rule', input: { rules: [{ type: 'deny_words_list', words: ['x'] }] } });
      const connection = await cluster.api('GET', '/api/connections/g-bind');
      const updated = await cluster.api('PUT', '/api/connections/g-bind', { ...connection.body, secret: undefined, guardrail_rules: [rule.id, 'not-a-rule'] });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual(updated.body.guardrail_rules, [rule.id]);
      assert.deepEqual((await cluster.api('GET', `/api/guardrails/${rule.id}`)).body.connection_ids, [conn.id]);
      const renamed = await cluster.api('PUT', `/api/guardrails/${rule.id}`, { name: 'g-bind-renamed', connection_ids: [] });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.body.name, 'g-bind-renamed');
      assert.deepEqual((await cluster.api('GET', '/api/connections/g-bind')).body.guardrail_rules, []);
    });

    it('blocks input before anything runs: exit 254, guardrails_info, the reference message', async () => {
      const conn = await cluster.createConnection('g-input');
      await createRule({
        name: 'Sensitive Data Test',
        connection_ids: [conn.id],
        input: { rules: [{ type: 'deny_words_list', words: ['DENYWORD'] }, { type: 'pattern_match', pattern_regex: 'rm\\s+-rf\\s+/', message: 'no wiping' }] },
      });
      const marker = path.join(tmpdir(), `gatehouse-guard-${randomBytes(4).toString('hex')}`);
      const exec = await cluster.exec({ connection: 'g-input', script: `touch ${marker}\necho DENYWORD` });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 254);
      assert.equal(exec.body.output_status, 'failed');
      assert.equal(
        exec.body.output,
        'Blocked by the following Guardrails rule: match guard rail [InputRules:Sensitive Data Test] rule, type=deny_words_list, words=[DENYWORD]',
      );
      assert.equal(existsSync(marker), false, 'the blocked script never ran');

      const session = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream&event_stream=utf8`);
      assert.equal(session.body.status, 'done');
      assert.equal(session.body.exit_code, 254);
      assert.deepEqual(session.body.guardrails_info, [
        { rule_name: 'Sensitive Data Test', rule: { type: 'deny_words_list', words: ['DENYWORD'] }, direction: 'input', matched_words: ['DENYWORD'] },
      ]);
      assert.match(JSON.stringify(session.body.event_stream), /Blocked by the following Guardrails rule/);

      const wipe = await cluster.exec({ connection: 'g-input', script: 'rm -rf /nothing-here' });
      assert.equal(wipe.body.exit_code, 254);
      assert.match(wipe.body.output, /^Blocked by the following Guardrails rule: no wiping, match guard rail \[InputRules:Sensitive Data Test\] rule, type=pattern_match, patterns=/);

      const clean = await cluster.exec({ connection: 'g-input', script: 'echo fine' });
      assert.equal(clean.body.exit_code, 0);
      assert.equal(clean.body.output, 'fine\n');
      assert.equal((await cluster.api('GET', `/api/sessions/${clean.body.session_id}`)).body.guardrails_info, null);
    });

    it('stops output at the first offending line and ends the session', async () => {
      await cluster.createConnection('g-output', { attributes: ['watched'] });
      await createRule({ name: 'g-output-rule', attributes: ['watched'], output: { rules: [{ type: 'deny_words_list', words: ['LEAKED'] }] } });
      const exec = await cluster.exec({ connection: 'g-output', script: 'echo safe line\nprintf "the LEA"; sleep 0.3; echo "KED value"\necho after\nsleep 20\necho late' });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 254);
      assert.equal(
        exec.body.output,
        'safe line\nBlocked by the following Guardrails rule: match guard rail [OutputRules:g-output-rule] rule, type=deny_words_list, words=[LEAKED]',
      );
      const session = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream&event_stream=utf8`);
      assert.equal(session.body.status, 'done');
      assert.equal(session.body.guardrails_info[0].direction, 'output');
      assert.doesNotMatch(JSON.stringify(session.body.event_stream), /KED value|after/);

      // The offending line arrives in the same chunk as lines before and after it.
      const oneChunk = await cluster.exec({ connection: 'g-output', script: 'printf "ok\\nthe LEAKED one\\nnever shown\\n"' });
      assert.equal(oneChunk.body.exit_code, 254);
      assert.match(oneChunk.body.output, /^ok\nBlocked by the following Guardrails rule: /);
    });

    it('decides SQL rules on the parsed statement, against real PostgreSQL', async () => {
      const conn = await cluster.createConnection('g-sql', {
        command: ['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1'],
        secret: { 'envvar:PGHOST': b64('127.0.0.1'), 'envvar:PGUSER': b64('postgres'), 'envvar:PGDATABASE': b64('test') },
      });
      await createRule({
        name: 'g-sql-rule',
        connection_ids: [conn.id],
        input: { rules: [{ type: 'sql', deny_statements: ['DROP', 'TRUNCATE'], require_where: true, deny_tables: ['payroll'], max_statements: 3 }] },
      });
      const run = (script: string) => cluster.exec({ connection: 'g-sql', script });

      const drop = await run(`drop table ${table};`);
      assert.equal(drop.body.exit_code, 254, drop.text);
      assert.match(drop.body.output, /InputRules:g-sql-rule/);
      const unbounded = await run(`DELETE FROM ${table};`);
      assert.equal(unbounded.body.exit_code, 254, unbounded.text);
      const payroll = await run('SELECT * FROM (SELECT 1 FROM public.payroll) p;');
      assert.equal(payroll.body.exit_code, 254, payroll.text);
      const broken = await run('SELEC 1;');
      assert.equal(broken.body.exit_code, 254, broken.text);
      assert.match(broken.body.output, /syntax error/);
      const tooMany = await run('SELECT 1; SELECT 2; SELECT 3; SELECT 4;');
      assert.equal(tooMany.body.exit_code, 254, tooMany.text);
      assert.equal((await queryDatabase(TEST_DB, `SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 3, 'no blocked statement reached the database');

      const allowed = await run(`DELETE FROM ${table} WHERE id = 1; SELECT count(*) FROM ${table};`);
      assert.equal(allowed.body.exit_code, 0, allowed.text);
      assert.equal(allowed.body.output, 'DELETE 1\n2\n');
    });
  });
}
