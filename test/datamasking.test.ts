import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, STORES, type Cluster } from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';

/**
 * Data masking end to end: real gateway and agent processes; output of bash and of psql on real
 * PostgreSQL rows is masked before the gateway stores or returns it.
 */

const TEST_DB = 'postgresql://postgres@127.0.0.1:5432/test';

// Valid (checksummed) values: none of them may leave the gateway in clear.
const EMAIL = 'jane.roe@example.org';
const CARD = '4111 1111 1111 1111';
const SSN = '123-45-6789';
const IBAN = 'DE89370400440532013000';
const CLEAR_VALUES = [EMAIL, CARD, SSN, IBAN, 'roe@example.org'];

function assertNoClearValue(text: string, where: string): void {
  for (const value of CLEAR_VALUES) assert.ok(!text.includes(value), `${where} contains ${value}: ${text}`);
}

for (const store of STORES) {
  describe(`data masking (${store})`, () => {
    let cluster: Cluster;
    const table = `gh_masking_${randomBytes(4).toString('hex')}`;

    before(async () => {
      cluster = await startCluster(store);
      await queryDatabase(TEST_DB, `CREATE TABLE ${table} (id int, email text, card text, note text)`);
      await queryDatabase(TEST_DB, `INSERT INTO ${table} VALUES (1, $1, $2, 'ok'), (2, 'sam@example.com', '5500 0000 0000 0004', 'iban ' || $3)`, [EMAIL, CARD, IBAN]);
    });

    after(async () => {
      await queryDatabase(TEST_DB, `DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await cluster?.stop();
    });

    it('validates data masking rules as the reference does, and refuses types it cannot detect', async () => {
      const rule = (extra: Record<string, unknown>) => cluster.api('POST', '/api/datamasking-rules', { name: 'r-invalid', ...extra });
      assertErrorBody(await rule({ score_threshold: 1.5 }), 400, 'score threshold must be between 0 and 1');
      assertErrorBody(await rule({ connection_ids: ['nope'] }), 400, 'invalid connection ID nope');
      assertErrorBody(
        await rule({ connection_ids: ['6f1f3a52-8d7c-4c1e-9a51-1b7f0f9a0c11'] }),
        400,
        'connection not found: a connection reference in the connection_ids field does not exist',
      );
      assertErrorBody(await rule({ supported_entity_types: [{ name: 'PII', entity_types: [] }] }), 400, 'missing entity types or name in supported entity types');
      assertErrorBody(await rule({ supported_entity_types: [{ name: 'pii', entity_types: ['EMAIL_ADDRESS'] }] }), 400, 'entity type name must be uppercase: pii');
      assertErrorBody(
        await rule({ supported_entity_types: [{ name: 'PII', entity_types: ['email'] }] }),
        400,
        'entity type must contain only uppercase letters, digits, or underscores: "email"',
      );
      assertErrorBody(await rule({ supported_entity_types: [{ name: 'PII', entity_types: ['EMAIL_ADDRESS', 'PERSON'] }] }), 400, /not supported by the masking engine: PERSON/);
      assertErrorBody(await rule({ custom_entity_types: [{ name: 'ZIP', score: 0.5 }] }), 400, 'missing name, deny_list or regex in custom entity types');
      assertErrorBody(await rule({ custom_entity_types: [{ name: 'ZIP', regex: '(\\d{5}', score: 0.5 }] }), 400, /custom entity type ZIP: invalid regex/);
      const missingScore = await rule({ custom_entity_types: [{ name: 'ZIP', regex: '\\d{5}' }] });
      assert.equal(missingScore.status, 400, missingScore.text);
      assertErrorBody(await cluster.api('POST', '/api/connections', { name: 'bad-redact', type: 'custom', agent_id: cluster.agentId, redact_types: ['FDA_CODE'] }), 422, /redact_types: not supported by the masking engine: FDA_CODE/);
    });

    it('creates, reads, updates (name immutable) and deletes rules; no one-rule limit', async () => {
      const conn = await cluster.createConnection('dm-crud');
      const created = await cluster.api('POST', '/api/datamasking-rules', {
        name: 'dm-crud-rule',
        description: 'pii',
        connection_ids: [conn.id],
        supported_entity_types: [{ name: 'PII', entity_types: ['EMAIL_ADDRESS', 'US_SSN'] }],
        custom_entity_types: [{ name: 'ZIP_CODE', regex: '\\b\\d{5}\\b', score: 0.4 }],
        score_threshold: 0.6,
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.managed_by, null);
      assert.deepEqual(created.body.connection_ids, [conn.id]);
      const second = await cluster.api('POST', '/api/datamasking-rules', { name: 'dm-crud-second', custom_entity_types: [{ name: 'WORDS', deny_list: ['a', 'b'], score: 1 }] });
      assert.equal(second.status, 201, second.text);
      assertErrorBody(await cluster.api('POST', '/api/datamasking-rules', { name: 'dm-crud-rule' }), 409, 'resource already exists');

      const id = created.body.id;
      const fetched = await cluster.api('GET', `/api/datamasking-rules/${id}`);
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body.supported_entity_types, [{ name: 'PII', entity_types: ['EMAIL_ADDRESS', 'US_SSN'] }]);
      const updated = await cluster.api('PUT', `/api/datamasking-rules/${id}`, { name: 'renamed', connection_ids: [], score_threshold: null });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.name, 'dm-crud-rule');
      assert.deepEqual(updated.body.connection_ids, []);
      assert.equal(updated.body.score_threshold, null);
      const listed = await cluster.api('GET', '/api/datamasking-rules');
      assert.deepEqual(listed.body.map((r: { name: string }) => r.name).filter((n: string) => n.startsWith('dm-crud')), ['dm-crud-rule', 'dm-crud-second']);

      assertErrorBody(await cluster.api('GET', '/api/datamasking-rules/not-a-uuid'), 404, 'resource not found');
      assertErrorBody(await cluster.api('PUT', '/api/datamasking-rules/6f1f3a52-8d7c-4c1e-9a51-1b7f0f9a0c11', { name: 'x' }), 404, 'resource not found');
      assert.equal((await cluster.api('DELETE', `/api/datamasking-rules/${second.body.id}`)).status, 204);
      assertErrorBody(await cluster.api('DELETE', `/api/datamasking-rules/${second.body.id}`), 404, 'resource not found');
    });

    it('binds rules from the connection side; inactive bindings do not count', async () => {
      const conn = await cluster.createConnection('dm-bind');
      const rule = await cluster.api('POST', '/api/datamasking-rules', { name: 'dm-bind-rule', supported_entity_types: [{ name: 'PII', entity_types: ['EMAIL_ADDRESS'] }] });
      const bound = await cluster.api('PUT', '/api/connections/dm-bind/datamasking-rules', [{ rule_id: rule.body.id, status: 'active' }]);
      assert.equal(bound.status, 200, bound.text);
      assert.equal(bound.body[0].connection_id, conn.id);
      assert.equal(bound.body[0].status, 'active');
      assert.deepEqual((await cluster.api('GET', `/api/datamasking-rules/${rule.body.id}`)).body.connection_ids, [conn.id]);
      assert.match((await cluster.exec({ connection: 'dm-bind', script: `echo ${EMAIL}` })).body.output, /^\[EMAIL_ADDRESS\]\n/);

      await cluster.api('PUT', '/api/connections/dm-bind/datamasking-rules', [{ rule_id: rule.body.id, status: 'inactive' }]);
      assert.deepEqual((await cluster.api('GET', `/api/datamasking-rules/${rule.body.id}`)).body.connection_ids, []);
      assert.equal((await cluster.exec({ connection: 'dm-bind', script: `echo ${EMAIL}` })).body.output, `${EMAIL}\n`);

      assertErrorBody(await cluster.api('PUT', '/api/connections/no-such-conn/datamasking-rules', []), 404, 'connection not found');
      assertErrorBody(await cluster.api('PUT', '/api/connections/dm-bind/datamasking-rules', [{ rule_id: 'x', status: 'active' }]), 400, 'invalid rule ID x');
      assert.equal((await cluster.api('PUT', '/api/connections/dm-bind/datamasking-rules', [])).status, 200);
    });

    it('masks exec output before it is returned, stored or downloaded, even split across writes', async () => {
      await cluster.createConnection('dm-bash', { redact_types: ['EMAIL_ADDRESS', 'CREDIT_CARD_NUMBER', 'US_SOCIAL_SECURITY_NUMBER', 'IBAN_CODE'] });
      // The values are assembled by the shell, so the script (stored as the session's input, as
      // typed) never holds them: any clear value in the recording would come from the output.
      const script = [
        "U=jane.roe; D=example.org; C='4111 1111'; S=123-45",
        'echo "user $U@$D card $C 1111 1111"',
        'echo "ssn $S-6789" >&2',
        // One value written in two pieces, with a pause, so it reaches the gateway in two chunks.
        `printf 'iban ${IBAN.slice(0, 9)}'; sleep 0.3; printf '${IBAN.slice(9)} end\\n'`,
        'echo "version 1.2.3.4 order 4111-1111"',
        // The last line has no newline: what masking holds back comes out at the end.
        `printf 'last jane.'; sleep 0.3; printf "roe@$D"`,
      ].join('\n');
      const exec = await cluster.exec({ connection: 'dm-bash', script });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 0);
      assertNoClearValue(exec.body.output, 'the exec answer');
      assert.match(exec.body.output, /user \[EMAIL_ADDRESS\] card \[CREDIT_CARD_NUMBER\]/);
      assert.match(exec.body.output, /ssn \[US_SOCIAL_SECURITY_NUMBER\]/);
      assert.match(exec.body.output, /iban \[IBAN_CODE\] end/);
      assert.match(exec.body.output, /last \[EMAIL_ADDRESS\]/);
      assert.match(exec.body.output, /version 1\.2\.3\.4 order 4111-1111/);

      const session = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream&event_stream=utf8`);
      assertNoClearValue(JSON.stringify(session.body.event_stream), 'the stored event stream');
      assert.deepEqual(session.body.metrics.data_masking, {
        err_count: 0,
        info_types: { EMAIL_ADDRESS: 2, CREDIT_CARD_NUMBER: 1, US_SOCIAL_SECURITY_NUMBER: 1, IBAN_CODE: 1 },
        total_redact_count: 5,
        transformed_bytes: EMAIL.length * 2 + CARD.length + SSN.length + IBAN.length,
      });
      const raw = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream&event_stream=base64`);
      assertNoClearValue(
        (raw.body.event_stream as string[]).map((e) => Buffer.from(e, 'base64').toString('latin1')).join(''),
        'the base64 event stream',
      );
      const link = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?extension=txt&events=o,e`);
      const download = await (await fetch(link.body.download_url)).text();
      assert.match(download, /\[EMAIL_ADDRESS\]/);
      assertNoClearValue(download, 'the download');
      if (cluster.postgresUri) {
        const stored = await queryDatabase(cluster.postgresUri, 'SELECT data FROM session_event_segments WHERE session_id = $1', [exec.body.session_id]);
        assertNoClearValue(Buffer.concat(stored.rows.map((r) => r.data as Buffer)).toString('latin1'), 'the stored segments');
      }
    });

    it('masks psql output of real PostgreSQL rows through a rule bound by attribute', async () => {
      await cluster.createConnection('dm-psql', {
        command: ['psql', '-X', '-v', 'ON_ERROR_STOP=1'],
        secret: { 'envvar:PGHOST': b64('127.0.0.1'), 'envvar:PGUSER': b64('postgres'), 'envvar:PGDATABASE': b64('test') },
        attributes: ['pii'],
      });
      const rule = await cluster.api('POST', '/api/datamasking-rules', {
        name: 'dm-psql-rule',
        attributes: ['pii'],
        supported_entity_types: [{ name: 'PII', entity_types: ['EMAIL_ADDRESS', 'CREDIT_CARD', 'IBAN_CODE'] }],
        custom_entity_types: [{ name: 'NOTE_OK', deny_list: ['ok'], score: 0.9 }],
      });
      assert.equal(rule.status, 201, rule.text);
      const exec = await cluster.exec({ connection: 'dm-psql', script: `SELECT * FROM ${table} ORDER BY id;` });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 0, exec.body.output);
      assertNoClearValue(exec.body.output, 'the psql answer');
      assert.ok(!exec.body.output.includes('sam@example.com'));
      assert.match(exec.body.output, /1 \| \[EMAIL_ADDRESS\]\s+\| \[CREDIT_CARD\]\s+\| \[NOTE_OK\]/);
      assert.match(exec.body.output, /iban \[IBAN_CODE\]/);
      assert.match(exec.body.output, /\(2 rows\)/);
      const session = await cluster.api('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream&event_stream=utf8`);
      assertNoClearValue(JSON.stringify(session.body.event_stream), 'the stored psql stream');
      assert.deepEqual(session.body.metrics.data_masking.info_types, { EMAIL_ADDRESS: 2, CREDIT_CARD: 2, IBAN_CODE: 1, NOTE_OK: 1 });
    });

    it('reports redactions per connection, info type and user over a date range', async () => {
      const today = new Date().toISOString().slice(0, 10);
      const report = await cluster.api('GET', `/api/reports/sessions?start_date=${today}`);
      assert.equal(report.status, 200, report.text);
      const psql = report.body.items.filter((i: { resource: string }) => i.resource === 'dm-psql');
      assert.deepEqual(
        psql.map((i: { info_type: string; redact_total: number }) => [i.info_type, i.redact_total]),
        [['CREDIT_CARD', 2], ['EMAIL_ADDRESS', 2], ['IBAN_CODE', 1], ['NOTE_OK', 1]],
      );
      assert.equal(report.body.total_redact_count, report.body.items.reduce((sum: number, i: { redact_total: number }) => sum + i.redact_total, 0));
      assertNoClearValue(report.text, 'the report');

      const byUser = await cluster.api('GET', `/api/reports/sessions?group_by=user_email&connection_name=dm-bash`);
      assert.equal(byUser.status, 200, byUser.text);
      assert.equal(byUser.body.total_redact_count, 5);
      assert.ok(byUser.body.items.every((i: { resource: string }) => i.resource === byUser.body.items[0].resource));

      const past = await cluster.api('GET', '/api/reports/sessions?start_date=2020-01-01&end_date=2020-01-02');
      assert.deepEqual(past.body, { items: [], total_redact_count: 0, total_transformed_bytes: 0 });
      assertErrorBody(await cluster.api('GET', '/api/reports/sessions?group_by=color'), 400, /group_by must be one of/);
      assertErrorBody(await cluster.api('GET', '/api/reports/sessions?start_date=yesterday'), 400, 'start_date must be a date as YYYY-MM-DD');
    });
  });
}
