import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, STORES, waitFor, type Cluster } from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';

/**
 * The Sessions API end to end (real gateway and agent processes): POST /api/sessions
 * validation and execution environment, the 200/202 split and kill, GET /api/sessions/{id}
 * renderings, one-time download links and the list endpoint.
 */

const decode = (data: string) => Buffer.from(data, 'base64');

type Triple = [number, string, string];

async function agentId(cluster: Cluster): Promise<string> {
  const agent = await cluster.api('GET', '/api/agents/test-agent');
  assert.equal(agent.status, 200, agent.text);
  return agent.body.id;
}

async function createBashConnection(cluster: Cluster, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const created = await cluster.api('POST', '/api/connections', {
    name,
    type: 'custom',
    command: ['bash'],
    agent_id: await agentId(cluster),
    ...extra,
  });
  assert.equal(created.status, 201, created.text);
}

async function getSession(cluster: Cluster, sessionId: string, query = '') {
  const response = await cluster.api('GET', `/api/sessions/${sessionId}${query}`);
  assert.equal(response.status, 200, response.text);
  return response.body;
}

/** Runs a script and waits for its session to be done, whether the exec answered 200 or 202. */
async function runToDone(cluster: Cluster, body: Record<string, unknown>): Promise<string> {
  const run = await cluster.exec(body);
  assert.ok(run.status === 200 || run.status === 202, run.text);
  const sessionId: string = run.body.session_id;
  await waitFor('the session to be done', async () => ((await getSession(cluster, sessionId)).status === 'done' ? true : undefined));
  return sessionId;
}


for (const store of STORES) {
  describe(`POST /api/sessions validation and environment (${store})`, () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(store);
      await createBashConnection(cluster, 'bash-secrets', {
        secret: {
          'envvar:SECRET_X': b64('from-connection'),
          'filesystem:CERT_FILE': b64('-----BEGIN CERT-----\nline two\n'),
        },
      });
    });
    after(async () => {
      await cluster?.stop();
    });

    it('answers malformed JSON with 400 and a message', async () => {
      const response = await cluster.api('POST', '/api/sessions', '{"script": "echo', {});
      assertErrorBody(response, 400);
      for (const body of ['', '[]', 'null', '"text"', '{"script": "echo",}']) {
        assertErrorBody(await cluster.api('POST', '/api/sessions', body), 400);
      }
    });

    it('answers wrongly typed fields with 400 and a message', async () => {
      for (const body of [
        { script: 1 },
        { client_args: 'x' },
        { client_args: [1] },
        { labels: { team: 1 } },
        { env_vars: { 'envvar:FOO': 3 } },
        { connection: ['bash'] },
        { metadata: 'x' },
        { env_vars: ['envvar:FOO'] },
        { correlation_id: 5 },
      ]) {
        const response = await cluster.exec(body);
        assertErrorBody(response, 400);
      }
      const sessions = await cluster.api('GET', '/api/sessions');
      assert.equal(sessions.body.total, 0, 'a rejected request must not create a session');
    });

    it('answers an unknown or empty connection with 400 "connection <name> not found"', async () => {
      assertErrorBody(await cluster.exec({ connection: 'nope', script: 'echo' }), 400, 'connection nope not found');
      assertErrorBody(await cluster.exec({ connection: '', script: 'echo' }), 400, 'connection  not found');
      assertErrorBody(await cluster.api('POST', '/api/sessions', { script: 'echo' }), 400, 'connection  not found');
    });

    it('limits metadata to 20 keys (422 past it)', async () => {
      const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]));
      const ok = await cluster.exec({ script: 'true', metadata: twenty });
      assert.equal(ok.status, 200, ok.text);
      const stored = await getSession(cluster, ok.body.session_id);
      assert.equal(Object.keys(stored.metadata).length, 20);
      assert.equal(stored.metadata.k7, '7');

      const tooMany = await cluster.exec({ script: 'true', metadata: { ...twenty, k20: 'x' } });
      assertErrorBody(tooMany, 422, /20/);
    });

    it('rejects a metadata key or value of 2500 characters with 422', async () => {
      const under = await cluster.exec({ script: 'true', metadata: { note: 'v'.repeat(2499) } });
      assert.equal(under.status, 200, under.text);
      const longValue = await cluster.exec({ script: 'true', metadata: { note: 'v'.repeat(2500) } });
      assertErrorBody(longValue, 422, /2500/);
      const longKey = await cluster.exec({ script: 'true', metadata: { ['k'.repeat(2500)]: 'v' } });
      assertErrorBody(longKey, 422, /2500/);
      const longObject = await cluster.exec({ script: 'true', metadata: { nested: { text: 'v'.repeat(2500) } } });
      assertErrorBody(longObject, 422, /2500/);
    });

    it('validates correlation_id: at most 255 printable ASCII characters (422 otherwise)', async () => {
      const ok = await cluster.exec({ script: 'true', correlation_id: 'c'.repeat(255) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await getSession(cluster, ok.body.session_id)).correlation_id, 'c'.repeat(255));

      assertErrorBody(await cluster.exec({ script: 'true', correlation_id: 'c'.repeat(256) }), 422, 'correlation_id must not exceed 255 characters');
      for (const bad of ['abc\u0001', 'tab\there', 'caf\u00e9', 'new\nline']) {
        assertErrorBody(
          await cluster.exec({ script: 'true', correlation_id: bad }),
          422,
          'correlation_id must contain only printable ASCII characters',
        );
      }
    });

    it('appends client_args to the connection command', async () => {
      const run = await cluster.exec({ script: 'echo "$#|$1|$2"', client_args: ['-s', '--', 'a1', 'b 2'] });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, '2|a1|b 2\n');
      assert.equal(run.body.exit_code, 0);
    });

    it('exports envvar: request variables (base64) to the process', async () => {
      const run = await cluster.exec({
        script: 'printf "%s|%s" "$FOO" "$BAR"',
        env_vars: { 'envvar:FOO': b64('foo value'), 'envvar:BAR': b64('ünï\ncode') },
      });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'foo value|ünï\ncode');
    });

    it('rejects env_vars keys that are not envvar:NAME or filesystem:NAME with 422', async () => {
      assertErrorBody(await cluster.exec({ script: 'true', env_vars: { FOO: b64('x') } }), 422);
      assertErrorBody(await cluster.exec({ script: 'true', env_vars: { 'other:FOO': b64('x') } }), 422);
    });

    it('never lets request env_vars override a connection secret', async () => {
      const run = await cluster.exec({
        connection: 'bash-secrets',
        script: 'printf "%s|%s" "$SECRET_X" "$EXTRA"',
        env_vars: { 'envvar:SECRET_X': b64('from-request'), 'envvar:EXTRA': b64('extra') },
      });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'from-connection|extra');
      // Not by naming the secret under the other kind either.
      const asFile = await cluster.exec({
        connection: 'bash-secrets',
        script: 'printf "%s" "$CERT_FILE" | head -c 5; echo; cat "$CERT_FILE"',
        env_vars: { 'envvar:CERT_FILE': b64('/etc/passwd') },
      });
      assert.equal(asFile.status, 200, asFile.text);
      assert.ok(asFile.body.output.endsWith('-----BEGIN CERT-----\nline two\n'), asFile.body.output);
      const fileOverEnv = await cluster.exec({
        connection: 'bash-secrets',
        script: 'printf "%s" "$SECRET_X"',
        env_vars: { 'filesystem:SECRET_X': b64('from-request') },
      });
      assert.equal(fileOverEnv.status, 200, fileOverEnv.text);
      assert.equal(fileOverEnv.body.output, 'from-connection');
    });

    it('sets GATEHOUSE_SESSION_ID, GATEHOUSE_CONNECTION_NAME and GATEHOUSE_USER_EMAIL, which requests cannot override', async () => {
      const run = await cluster.exec({
        script: 'printf "%s|%s|%s|%s" "$GATEHOUSE_SESSION_ID" "$GATEHOUSE_CONNECTION_NAME" "$GATEHOUSE_USER_EMAIL" "$HOOP_SESSION_ID"',
        env_vars: { 'envvar:GATEHOUSE_SESSION_ID': b64('forged'), 'envvar:GATEHOUSE_USER_EMAIL': b64('evil@example.com') },
      });
      assert.equal(run.status, 200, run.text);
      const sid = run.body.session_id;
      assert.equal(run.body.output, `${sid}|bash|admin@gatehouse.local|${sid}`);
      const asFiles = await cluster.exec({
        script: 'printf "%s|%s" "$GATEHOUSE_SESSION_ID" "$GATEHOUSE_CONNECTION_NAME"',
        env_vars: { 'filesystem:GATEHOUSE_SESSION_ID': b64('forged'), 'filesystem:GATEHOUSE_CONNECTION_NAME': b64('forged') },
      });
      assert.equal(asFiles.body.output, `${asFiles.body.session_id}|bash`);
    });

    it('materialises a filesystem: secret as a 0600 file holding the value, deleted after the run', async () => {
      const run = await cluster.exec({
        connection: 'bash-secrets',
        script: 'echo "$CERT_FILE"; stat -c %a "$CERT_FILE"; cat "$CERT_FILE"',
      });
      assert.equal(run.status, 200, run.text);
      const [file, mode, ...content] = run.body.output.split('\n');
      assert.ok(path.isAbsolute(file!), `not a path: ${file}`);
      assert.equal(mode, '600');
      assert.equal(content.join('\n'), '-----BEGIN CERT-----\nline two\n');
      assert.equal(existsSync(file!), false, `${file} was left behind`);

      // The same for filesystem: variables of the request.
      const fromRequest = await cluster.exec({
        script: 'echo "$REQ_FILE"; stat -c %a "$REQ_FILE"; cat "$REQ_FILE"',
        env_vars: { 'filesystem:REQ_FILE': b64('request file body') },
      });
      const [requestFile, requestMode, requestContent] = fromRequest.body.output.split('\n');
      assert.equal(requestMode, '600');
      assert.equal(requestContent, 'request file body');
      assert.equal(existsSync(requestFile!), false, `${requestFile} was left behind`);
    });

    it('returns non-UTF-8 output with U+FFFD and keeps the raw bytes in the recording', async () => {
      const run = await cluster.exec({ script: "printf '\\xff\\xfeok'" });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, '\uFFFD\uFFFDok');

      const session = await getSession(cluster, run.body.session_id, '?expand=event_stream');
      const output = Buffer.concat(
        (session.event_stream as Triple[]).filter(([, type]) => type === 'o').map(([, , data]) => decode(data)),
      );
      assert.deepEqual([...output], [0xff, 0xfe, 0x6f, 0x6b]);

      const link = await cluster.api('GET', `/api/sessions/${run.body.session_id}?extension=txt`);
      const download = await fetch(link.body.download_url);
      assert.equal(download.status, 200);
      assert.deepEqual([...Buffer.from(await download.arrayBuffer())], [0xff, 0xfe, 0x6f, 0x6b]);
    });

    it('runs and records a ~20 MB script', async () => {
      const line = '#' + 'x'.repeat(98) + '\n';
      const payload = line.repeat(200_000);
      const script = 'wc -c\n' + payload;
      const run = await cluster.exec({ script });
      assert.equal(run.status, 200, run.text.slice(0, 500));
      assert.equal(run.body.exit_code, 0);
      assert.equal(run.body.output.trim(), String(payload.length));

      const session = await getSession(cluster, run.body.session_id);
      assert.equal(session.script_size, Buffer.byteLength(script));
      assert.equal(session.script.data.length, script.length);
      assert.ok(session.script.data === script, 'the stored input differs from the script');
    });

    it('finishes when the process exits without reading its large stdin', async () => {
      const script = '#' + 'x'.repeat(20 * 1024 * 1024) + '\n';
      for (const command of ['echo stdin ignored', 'head -c 10 >/dev/null; echo read 10 bytes']) {
        const run = await cluster.exec({ script, client_args: ['-c', command] });
        assert.equal(run.status, 200, run.text.slice(0, 500));
        assert.equal(run.body.exit_code, 0);
        assert.match(run.body.output, /^(stdin ignored|read 10 bytes)\n$/);
        assert.equal((await getSession(cluster, run.body.session_id)).status, 'done');
      }
    });
  });

  describe(`GET /api/sessions/{id}, downloads (${store})`, () => {
    let cluster: Cluster;
    let sessionId: string;
    const script = 'echo héllo';
    before(async () => {
      cluster = await startCluster(store);
      const run = await cluster.exec({ script });
      assert.equal(run.body.output, 'héllo\n');
      sessionId = run.body.session_id;
    });
    after(async () => {
      await cluster?.stop();
    });

    it('answers 404 for an unknown uuid and for a garbage id', async () => {
      assertErrorBody(await cluster.api('GET', '/api/sessions/6b3c9a52-0d7e-4f0e-9a51-1f2d3c4b5a69'), 404, 'not found');
      assertErrorBody(await cluster.api('GET', '/api/sessions/not-a-session-id'), 404, 'not found');
      assertErrorBody(await cluster.api('GET', `/api/sessions/${sessionId}x`), 404, 'not found');
    });

    it('returns the input as script.data when expand is absent, without an event stream', async () => {
      const session = await getSession(cluster, sessionId);
      assert.deepEqual(session.script, { data: script });
      assert.equal(session.script_size, Buffer.byteLength(script));
      assert.equal('event_stream' in session, false);
      assert.equal(session.status, 'done');
      assert.equal(session.exit_code, 0);
      assert.equal(session.connection, 'bash');
      assert.equal(session.user, 'admin@gatehouse.local');
      assert.equal(typeof session.start_date, 'string');
      assert.equal(typeof session.end_date, 'string');
      assert.ok(session.event_size > 0);
    });

    it('leaves script.data empty when expand is given without session_input', async () => {
      assert.deepEqual((await getSession(cluster, sessionId, '?expand=event_stream')).script, { data: '' });
      assert.deepEqual((await getSession(cluster, sessionId, '?expand=event_stream,session_input')).script, { data: script });
    });

    it('renders the event stream raw, as utf8 and as base64', async () => {
      const raw = await getSession(cluster, sessionId, '?expand=event_stream');
      const events = (raw.event_stream as Triple[]).map(([elapsed, type, data]) => {
        assert.equal(typeof elapsed, 'number');
        return [type, decode(data).toString('utf8')];
      });
      assert.deepEqual(events, [
        ['i', script],
        ['o', 'héllo\n'],
      ]);
      assert.ok(raw.event_size > 0);

      const utf8 = await getSession(cluster, sessionId, '?expand=event_stream&event_stream=utf8');
      assert.deepEqual(utf8.event_stream, ['héllo\n']);
      assert.equal(utf8.event_size, 6);

      const base64 = await getSession(cluster, sessionId, '?expand=event_stream&event_stream=base64');
      assert.deepEqual(base64.event_stream, [b64('héllo\n')]);
      assert.equal(base64.event_size, b64('héllo\n').length);

      // raw-queries only rewrites postgres wire-protocol recordings; any other comes back as stored.
      const rawQueries = await getSession(cluster, sessionId, '?expand=event_stream&event_stream=raw-queries');
      assert.deepEqual(rawQueries.event_stream, raw.event_stream);
    });

    it('rejects an unknown event_stream format with 422 when the stream is expanded', async () => {
      const bogus = await cluster.api('GET', `/api/sessions/${sessionId}?expand=event_stream&event_stream=bogus`);
      assertErrorBody(bogus, 422, 'event_stream attribute has an unknown type format');
      // Without expand nothing is rendered, so the option is ignored.
      const ignored = await cluster.api('GET', `/api/sessions/${sessionId}?event_stream=bogus`);
      assert.equal(ignored.status, 200, ignored.text);
    });

    it('creates a one-time csv download link that works without credentials', async () => {
      const run = await cluster.exec({ script: "printf 'a\\tb\\nc\\td'" });
      const link = await cluster.api('GET', `/api/sessions/${run.body.session_id}?extension=csv&newline=1`);
      assert.equal(link.status, 200, link.text);
      assert.deepEqual(Object.keys(link.body).sort(), ['download_url', 'expire_at']);
      const url = new URL(link.body.download_url);
      assert.equal(url.origin, cluster.url);
      assert.equal(url.pathname, `/api/sessions/${run.body.session_id}/download`);
      assert.match(url.searchParams.get('token') ?? '', /^[0-9a-f]{64}$/);
      const expireAt = Date.parse(link.body.expire_at);
      assert.ok(expireAt > Date.now() && expireAt <= Date.now() + 5 * 60 * 1000 + 1000, link.body.expire_at);

      const first = await fetch(link.body.download_url);
      assert.equal(first.status, 200);
      assert.match(
        first.headers.get('content-disposition') ?? '',
        new RegExp(`^attachment; filename=bash-${run.body.session_id}-\\d{8}-\\d{6}\\.csv$`),
      );
      assert.equal(first.headers.get('content-type'), 'application/octet-stream');
      // Each output event, tabs as commas, followed by a newline (newline=1).
      const recorded = await getSession(cluster, run.body.session_id, '?expand=event_stream');
      const outputs = (recorded.event_stream as Triple[]).filter(([, type]) => type === 'o').map(([, , data]) => decode(data).toString());
      assert.equal(outputs.join(''), 'a\tb\nc\td');
      assert.equal(await first.text(), outputs.map((text) => text.replaceAll('\t', ',') + '\n').join(''));

      const second = await fetch(link.body.download_url);
      assert.equal(second.status, 404);
      assert.equal(typeof (await second.json()).message, 'string');

      // The token is the only credential: whatever Authorization header comes along is ignored.
      const again = await cluster.api('GET', `/api/sessions/${run.body.session_id}?extension=csv`);
      const withBadAuth = await fetch(again.body.download_url, { headers: { authorization: 'Bearer not-a-key' } });
      assert.equal(withBadAuth.status, 200);
      assert.equal(await withBadAuth.text(), 'a,b\nc,d');
    });

    it('prefixes each event with its time when event-time=1', async () => {
      const session = await getSession(cluster, sessionId);
      const link = await cluster.api('GET', `/api/sessions/${sessionId}?extension=txt&event-time=1&newline=1&events=i,o`);
      const response = await fetch(link.body.download_url);
      assert.equal(response.status, 200);
      assert.match(
        response.headers.get('content-disposition') ?? '',
        new RegExp(`^attachment; filename=bash-${sessionId}-\\d{8}-\\d{6}\\.txt$`),
      );
      const match = /^(\S+) echo héllo\n(\S+) héllo\n\n$/.exec(await response.text());
      assert.ok(match, 'unexpected body');
      for (const time of [match[1]!, match[2]!]) {
        assert.match(time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.ok(Math.abs(Date.parse(time) - Date.parse(session.start_date)) < 60_000, time);
      }
    });

    it('answers a download with a wrong token with 401', async () => {
      const link = await cluster.api('GET', `/api/sessions/${sessionId}?extension=txt`);
      const url = new URL(link.body.download_url);
      url.searchParams.set('token', 'f'.repeat(64));
      const wrong = await fetch(url);
      assert.equal(wrong.status, 401);
      assert.equal(typeof (await wrong.json()).message, 'string');
      url.searchParams.delete('token');
      assert.equal((await fetch(url)).status, 401);
      // A token is bound to its session.
      const other = await cluster.exec({ script: 'echo other' });
      const moved = new URL(link.body.download_url.replace(sessionId, other.body.session_id));
      assert.equal((await fetch(moved)).status, 401);
    });

    it('renders json downloads as [{time,type,stream}], with the input when events=i is asked for', async () => {
      const session = await getSession(cluster, sessionId);
      const link = await cluster.api('GET', `/api/sessions/${sessionId}?extension=json`);
      const response = await fetch(link.body.download_url);
      assert.equal(response.status, 200);
      const items = (await response.json()) as Array<{ time: string; type: string; stream: string }>;
      assert.deepEqual(items.map(({ type, stream }) => ({ type, stream })), [{ type: 'o', stream: 'héllo\n' }]);
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), ['stream', 'time', 'type']);
        assert.match(item.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        assert.ok(Date.parse(item.time) >= Date.parse(session.start_date) - 1000);
      }

      const withInput = await cluster.api('GET', `/api/sessions/${sessionId}?extension=json&events=i,o`);
      const all = (await (await fetch(withInput.body.download_url)).json()) as Array<{ type: string; stream: string }>;
      assert.deepEqual(all.map(({ type, stream }) => [type, stream]), [
        ['i', script],
        ['o', 'héllo\n'],
      ]);

      const none = await cluster.api('GET', `/api/sessions/${sessionId}?extension=json&events=e`);
      assert.equal(await (await fetch(none.body.download_url)).text(), 'null');
    });

    it('answers an expired download link with 410', { skip: store !== 'postgres' && 'needs direct database access' }, async () => {
      const link = await cluster.api('GET', `/api/sessions/${sessionId}?extension=txt`);
      assert.equal(link.status, 200, link.text);
      const token = new URL(link.body.download_url).searchParams.get('token')!;
      const updated = await queryDatabase(
        cluster.postgresUri!,
        `UPDATE session_download_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $1`,
        [createHash('sha256').update(token).digest('hex')],
      );
      assert.equal(updated.rowCount, 1);
      const expired = await fetch(link.body.download_url);
      assert.equal(expired.status, 410);
      assert.equal((await expired.json()).message, 'session download link expired');
    });

    it('stores only a hash of download tokens', { skip: store !== 'postgres' && 'needs direct database access' }, async () => {
      const link = await cluster.api('GET', `/api/sessions/${sessionId}?extension=txt`);
      const token = new URL(link.body.download_url).searchParams.get('token')!;
      const rows = await queryDatabase(cluster.postgresUri!, 'SELECT * FROM session_download_tokens');
      assert.ok(rows.rows.length > 0);
      assert.equal(JSON.stringify(rows.rows).includes(token), false);
    });
  });

  describe(`202, kill and list (${store})`, () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(store, { GATEHOUSE_EXEC_WAIT_SECONDS: '1' });
    });
    after(async () => {
      await cluster?.stop();
    });

    it('answers 202 when the run outlasts the wait, and finishes it in the background', async () => {
      const run = await cluster.exec({ script: 'sleep 3; echo late' });
      assert.equal(run.status, 202, run.text);
      assert.deepEqual(run.body, {
        session_id: run.body.session_id,
        output: '',
        output_status: 'running',
        exit_code: -2,
        execution_time: 0,
        has_review: false,
        truncated: false,
      });
      assert.match(run.body.session_id, /^[0-9a-f-]{36}$/);

      const running = await getSession(cluster, run.body.session_id);
      assert.equal(running.status, 'open');
      assert.equal(running.exit_code, null);
      assert.equal(running.end_date, null);

      const done = await waitFor('the session to finish', async () => {
        const session = await getSession(cluster, run.body.session_id);
        return session.status === 'done' ? session : undefined;
      });
      assert.equal(done.exit_code, 0);
      assert.equal(typeof done.end_date, 'string');
      const utf8 = await getSession(cluster, run.body.session_id, '?expand=event_stream&event_stream=utf8');
      assert.deepEqual(utf8.event_stream, ['late\n']);
    });

    it('kills a running session: 204, the process is gone, the session is done with 254', async () => {
      const run = await cluster.exec({ script: 'sleep 60 & echo "$$ $!"; wait' });
      assert.equal(run.status, 202, run.text);
      const sid = run.body.session_id;
      const pids = await waitFor('the pids in the recording', async () => {
        const session = await getSession(cluster, sid, '?expand=event_stream&event_stream=utf8');
        const match = /^(\d+) (\d+)\n/.exec(session.event_stream[0] ?? '');
        return match ? [Number(match[1]), Number(match[2])] : undefined;
      });
      for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), `process ${pid} should be running`);

      const killed = await cluster.api('POST', `/api/sessions/${sid}/kill`);
      assert.equal(killed.status, 204, killed.text);
      assert.equal(killed.text, '');

      const done = await waitFor('the session to be done', async () => {
        const session = await getSession(cluster, sid, '?expand=event_stream');
        return session.status === 'done' ? session : undefined;
      });
      assert.equal(done.exit_code, 254);
      assert.equal(done.end_reason, 'session killed by the user');
      const errors = (done.event_stream as Triple[]).filter(([, type]) => type === 'e').map(([, , data]) => decode(data).toString());
      assert.ok(errors.includes('session killed by the user'), JSON.stringify(errors));
      for (const pid of pids) {
        await waitFor(`process ${pid} to exit`, async () => {
          try {
            process.kill(pid, 0);
            return undefined;
          } catch {
            return true;
          }
        });
      }
    });

    it('answers kill of an unknown session with 404', async () => {
      assertErrorBody(await cluster.api('POST', '/api/sessions/6b3c9a52-0d7e-4f0e-9a51-1f2d3c4b5a69/kill'), 404, 'session not found');
      assertErrorBody(await cluster.api('POST', '/api/sessions/garbage/kill'), 404, 'session not found');
    });

    it('does not alter a finished session when it is killed', async () => {
      const sid = await runToDone(cluster, { script: 'echo finished' });
      const finished = await getSession(cluster, sid, '?expand=event_stream');
      const killed = await cluster.api('POST', `/api/sessions/${sid}/kill`);
      assert.equal(killed.status, 204, killed.text);
      const afterKill = await getSession(cluster, sid, '?expand=event_stream');
      assert.equal(afterKill.exit_code, 0);
      assert.equal(afterKill.end_date, finished.end_date);
      assert.deepEqual(afterKill.event_stream, finished.event_stream);
    });

    it('lists sessions with {data,total,has_next_page}, paginated by limit and offset', async () => {
      await createBashConnection(cluster, 'pager');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await runToDone(cluster, { connection: 'pager', script: `echo ${i}` }));
      }
      const newestFirst = [...ids].reverse();

      const all = await cluster.api('GET', '/api/sessions?connection=pager');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(Object.keys(all.body).sort(), ['data', 'has_next_page', 'total']);
      assert.equal(all.body.total, 5);
      assert.equal(all.body.has_next_page, false);
      assert.deepEqual(all.body.data.map((s: any) => s.id), newestFirst);
      for (const item of all.body.data) {
        assert.equal(item.connection, 'pager');
        assert.equal(item.script, null);
        assert.equal('event_stream' in item, false);
        assert.equal(typeof item.script_size, 'number');
      }

      const pages: string[] = [];
      for (const [offset, size, more] of [[0, 2, true], [2, 2, true], [4, 1, false]] as const) {
        const page = await cluster.api('GET', `/api/sessions?connection=pager&limit=2&offset=${offset}`);
        assert.equal(page.status, 200, page.text);
        assert.equal(page.body.total, 5);
        assert.equal(page.body.data.length, size);
        assert.equal(page.body.has_next_page, more);
        pages.push(...page.body.data.map((s: any) => s.id));
      }
      assert.deepEqual(pages, newestFirst);

      const clamped = await cluster.api('GET', '/api/sessions?limit=1000');
      assert.equal(clamped.status, 200, clamped.text);
      const unfiltered = await cluster.api('GET', '/api/sessions');
      assert.ok(unfiltered.body.total >= 5);
      assert.ok(unfiltered.body.data.some((s: any) => s.connection === 'bash'));
    });

    it('filters the list by status', async () => {
      const run = await cluster.exec({ connection: 'pager', script: 'sleep 60' });
      assert.equal(run.status, 202, run.text);
      try {
        const open = await cluster.api('GET', '/api/sessions?status=open');
        assert.equal(open.status, 200, open.text);
        assert.deepEqual(open.body.data.map((s: any) => s.id), [run.body.session_id]);
        assert.equal(open.body.total, 1);

        const done = await cluster.api('GET', '/api/sessions?status=done&connection=pager');
        assert.equal(done.body.total, 5);
        assert.ok(done.body.data.every((s: any) => s.status === 'done' && s.id !== run.body.session_id));

        const none = await cluster.api('GET', '/api/sessions?connection=no-such-connection');
        assert.deepEqual(none.body, { data: [], total: 0, has_next_page: false });
      } finally {
        await cluster.api('POST', `/api/sessions/${run.body.session_id}/kill`);
      }
    });

    it('rejects bad limit and offset values with 422 and the reference messages', async () => {
      const cases: Array<[string, string]> = [
        ['limit=abc', 'failed listing sessions, invalid "limit" option: "abc" is not a number'],
        ['limit=0', 'failed listing sessions, invalid "limit" option: must be at least 1, got 0'],
        ['limit=-5', 'failed listing sessions, invalid "limit" option: must be at least 1, got -5'],
        ['offset=abc', 'failed listing sessions, invalid "offset" option: "abc" is not a number'],
        ['offset=-1', 'failed listing sessions, invalid "offset" option: must not be negative, got -1'],
        [
          'offset=10001',
          'failed listing sessions, invalid "offset" option: must not be greater than 10000, got 10001; narrow the result set with a filter instead of paginating deeper',
        ],
      ];
      for (const [q, message] of cases) {
        assertErrorBody(await cluster.api('GET', `/api/sessions?${q}`), 422, message);
      }
      const deepest = await cluster.api('GET', '/api/sessions?offset=10000');
      assert.equal(deepest.status, 200, deepest.text);
      assert.deepEqual(deepest.body.data, []);
    });
  });
}
