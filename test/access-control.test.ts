import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, STORES, type Cluster } from './support/cluster.js';
import { assertErrorBody } from './support/http-assertions.js';

/**
 * Access control end to end: with the access_control plugin, a standard identity sees and uses
 * only the connections bound to one of its groups (hidden ones behave as non-existent), while
 * admins and auditors see all; sessions are readable by their owner, admins and auditors.
 */

for (const store of STORES) {
  describe(`access control (${store})`, () => {
    let cluster: Cluster;
    const keys: Record<string, string> = {};
    const as = (who: string) => ({ authorization: `Bearer ${keys[who]}` });

    before(async () => {
      cluster = await startCluster(store);
      for (const [name, groups] of [['sre', ['sre']], ['dev', ['dev']], ['auditor', ['auditor']]] as const) {
        const created = await cluster.api('POST', '/api/api-keys', { name: `key-${name}`, groups });
        assert.equal(created.status, 201, created.text);
        keys[name] = created.body.key;
      }
      const agentId = (await cluster.api('GET', '/api/agents/test-agent')).body.id;
      const hidden = await cluster.api('POST', '/api/connections', { name: 'billing-db', type: 'custom', command: ['bash'], agent_id: agentId });
      assert.equal(hidden.status, 201, hidden.text);
    });

    after(async () => {
      await cluster?.stop();
    });

    const names = async (who: string) => (await cluster.api('GET', '/api/connections', undefined, as(who))).body.map((c: any) => c.name).sort();

    it('without the plugin every identity sees every connection', async () => {
      assert.deepEqual(await names('dev'), ['bash', 'billing-db']);
      assert.deepEqual((await cluster.api('GET', '/api/plugins')).body, []);
    });

    it('enables the plugin; refuses it twice and unknown plugins', async () => {
      const enabled = await cluster.api('POST', '/api/plugins', { name: 'access_control', connections: [{ name: 'bash', config: ['sre'] }] });
      assert.equal(enabled.status, 201, enabled.text);
      assert.deepEqual(enabled.body.connections, [{ id: enabled.body.connections[0].id, name: 'bash', config: ['sre'] }]);
      assertErrorBody(await cluster.api('POST', '/api/plugins', { name: 'access_control', connections: [] }), 400, 'plugin already enabled');
      assertErrorBody(await cluster.api('POST', '/api/plugins', { name: 'slack', connections: [] }), 422, /plugin slack is not supported/);
      assertErrorBody(await cluster.api('POST', '/api/plugins', { name: 'access_control', connections: [] }, as('sre')), 403, 'access denied');
    });

    it('a standard identity sees and uses only connections bound to its groups', async () => {
      assert.deepEqual(await names('sre'), ['bash']);
      assert.deepEqual(await names('dev'), []);
      assertErrorBody(await cluster.api('GET', '/api/connections/billing-db', undefined, as('sre')), 404, 'not found');

      const ran = await cluster.api('POST', '/api/sessions', { connection: 'bash', script: 'echo ok' }, as('sre'));
      assert.equal(ran.status, 200, ran.text);
      assert.equal(ran.body.output, 'ok\n');
      assertErrorBody(await cluster.api('POST', '/api/sessions', { connection: 'billing-db', script: 'echo no' }, as('sre')), 400, 'connection billing-db not found');
      assertErrorBody(await cluster.api('POST', '/api/sessions', { connection: 'bash', script: 'echo no' }, as('dev')), 400, 'connection bash not found');
      const runbook = await cluster.api('POST', '/api/runbooks/exec', { connection_name: 'billing-db', repository: 'x', file_name: 'a' }, as('sre'));
      assertErrorBody(runbook, 404, 'connection not found');
    });

    it('admins and auditors see every connection', async () => {
      assert.deepEqual(await names('auditor'), ['bash', 'billing-db']);
      assert.deepEqual((await cluster.api('GET', '/api/connections')).body.map((c: any) => c.name).sort(), ['bash', 'billing-db']);
    });

    it('a new binding applies at once', async () => {
      const bound = await cluster.api('PUT', '/api/plugins/access_control/conn/billing-db', { config: ['dev'] });
      assert.equal(bound.status, 200, bound.text);
      assert.deepEqual(bound.body.config, ['dev']);
      assert.deepEqual(await names('dev'), ['billing-db']);
      assertErrorBody(await cluster.api('PUT', '/api/plugins/access_control/conn/nope', { config: ['dev'] }), 404, 'either the plugin or the connection does not exist');
      assertErrorBody(await cluster.api('PUT', '/api/plugins/review/conn/bash', { config: ['dev'] }), 400, /use the connection endpoint instead/);
    });

    it('sessions are read by their owner, admins and auditors only', async () => {
      const own = await cluster.api('POST', '/api/sessions', { connection: 'bash', script: 'echo mine' }, as('sre'));
      const id = own.body.session_id;
      assert.equal((await cluster.api('GET', `/api/sessions/${id}`, undefined, as('sre'))).status, 200);
      assert.equal((await cluster.api('GET', `/api/sessions/${id}`, undefined, as('auditor'))).status, 200);
      assert.equal((await cluster.api('GET', `/api/sessions/${id}`)).status, 200);
      assertErrorBody(await cluster.api('GET', `/api/sessions/${id}`, undefined, as('dev')), 403, 'user is not allowed to access this session');
      const listed = await cluster.api('GET', '/api/sessions', undefined, as('dev'));
      assert.ok(listed.body.data.every((s: any) => s.user === 'key-dev'), listed.text);
      const audited = await cluster.api('GET', '/api/sessions', undefined, as('auditor'));
      assert.ok(audited.body.data.some((s: any) => s.id === id));
      assertErrorBody(await cluster.api('POST', '/api/sessions', { connection: 'bash', script: 'echo no' }, as('auditor')), 403, 'access denied');
    });
  });
}
