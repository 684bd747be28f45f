import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, STORES, type Cluster } from './support/cluster.js';

for (const store of STORES) {
  describe(`exec and get session (${store})`, () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(store);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('runs a script through the agent and answers like the reference', async () => {
      const response = await cluster.exec({ script: 'echo hello' });
      assert.equal(response.status, 200);
      assert.deepEqual(Object.keys(response.body).sort(), [
        'execution_time', 'exit_code', 'has_review', 'output', 'output_status', 'session_id', 'truncated',
      ]);
      assert.equal(response.body.output, 'hello\n');
      assert.equal(response.body.output_status, 'success');
      assert.equal(response.body.exit_code, 0);
      assert.equal(response.body.has_review, false);
      assert.equal(response.body.truncated, false);
      assert.equal(typeof response.body.execution_time, 'number');
      assert.match(response.body.session_id, /^[0-9a-f-]{36}$/);
    });

    it('records the session with its input, output and exit code', async () => {
      const run = await cluster.exec({ script: 'echo out; echo err >&2; exit 3', metadata: { ticket: 42 } });
      assert.equal(run.body.exit_code, 3);
      assert.equal(run.body.output_status, 'failed');
      const session = await cluster.api('GET', `/api/sessions/${run.body.session_id}?expand=event_stream`);
      assert.equal(session.status, 200);
      assert.equal(session.body.id, run.body.session_id);
      assert.equal(session.body.status, 'done');
      assert.equal(session.body.exit_code, 3);
      assert.equal(session.body.verb, 'exec');
      assert.equal(session.body.connection, 'bash');
      assert.deepEqual(session.body.metadata, { ticket: '42' });
      const events = session.body.event_stream.map(([, type, data]: [number, string, string]) => [type, Buffer.from(data, 'base64').toString()]);
      assert.deepEqual(events, [
        ['i', 'echo out; echo err >&2; exit 3'],
        ['o', 'out\n'],
        ['e', 'err\n'],
      ]);
      assert.ok(session.body.event_size > 0);
      const utf8 = await cluster.api('GET', `/api/sessions/${run.body.session_id}?expand=event_stream&event_stream=utf8`);
      assert.deepEqual(utf8.body.event_stream, ['out\nerr\n']);
    });
  });
}
