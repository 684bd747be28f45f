import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  b64,
  createDatabase,
  freePort,
  spawnGatehouse,
  startCluster,
  STORES,
  waitFor,
  type Cluster,
  type ProcessHandle,
  type StoreKind,
} from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';

/**
 * Resources and security end to end (real gateway and agent processes): API authentication
 * and the admin key, connections and their secrets, agent keys and revocation, system routes.
 */

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const NAME_MESSAGE = 'name: it must contain between 3 and 254 alphanumeric characters, it may include (-), (_) or (.) characters';


async function fetchJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text, headers: response.headers };
}

const occurrences = (text: string, needle: string) => text.split(needle).length - 1;

/** A gateway process alone (no agent), for start-up configurations the cluster does not cover. */
async function startBareGateway(store: StoreKind, env: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-test-'));
  const database = store === 'postgres' ? await createDatabase() : undefined;
  const httpPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const handle: ProcessHandle = spawnGatehouse('gateway', {
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_HTTP_ADDR: `127.0.0.1:${httpPort}`,
    GATEHOUSE_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
    ...(database ? { POSTGRES_DB_URI: database.uri } : {}),
    ...env,
  });
  const stop = async () => {
    if (handle.child.exitCode === null && handle.child.signalCode === null) {
      handle.child.kill('SIGKILL');
      await handle.exited;
    }
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor('the gateway to answer', async () => {
      if (handle.child.exitCode !== null) throw new Error(`gateway exited:\n${handle.output()}`);
      const response = await fetch(`${url}/api/healthz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dataDir, handle, stop };
}

for (const store of STORES) {
  describe(`authentication, admin key and system routes (${store})`, () => {
    let cluster: Cluster;
    before(async () => {
      cluster = await startCluster(store);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('answers requests without credentials with 401 and a message', async () => {
      for (const route of ['/api/connections', '/api/agents', '/api/sessions', '/api/serverinfo']) {
        const response = await fetchJson(cluster.url + route);
        assertErrorBody(response, 401);
      }
      const exec = await fetch(`${cluster.url}/api/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ connection: 'bash', script: 'echo should-not-run' }),
      });
      assert.equal(exec.status, 401);
    });

    it('answers a bad key with 401', async () => {
      const attempts: Array<Record<string, string>> = [
        { authorization: 'Bearer hpk_not-a-real-key' },
        { authorization: `Bearer ${cluster.adminKey}x` },
        { authorization: `Basic ${b64(`admin:${cluster.adminKey}`)}` },
        { authorization: cluster.adminKey },
        { 'api-key': 'hpk_not-a-real-key' },
      ];
      for (const headers of attempts) {
        assertErrorBody(await fetchJson(`${cluster.url}/api/connections`, headers), 401);
      }
    });

    it('accepts the admin key as Bearer and as an Api-Key header', async () => {
      const bearer = await fetchJson(`${cluster.url}/api/connections`, { authorization: `Bearer ${cluster.adminKey}` });
      assert.equal(bearer.status, 200, bearer.text);
      const apiKey = await fetchJson(`${cluster.url}/api/connections`, { 'Api-Key': cluster.adminKey });
      assert.equal(apiKey.status, 200, apiKey.text);
      assert.ok(apiKey.body.some((c: any) => c.name === 'bash'));
    });

    it('answers GET /api/healthz without credentials', async () => {
      const health = await fetchJson(`${cluster.url}/api/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(health.body, { status: 'ok' });
    });

    it('answers GET /api/serverinfo with version, api_url and grpc_url (authenticated)', async () => {
      assertErrorBody(await fetchJson(`${cluster.url}/api/serverinfo`), 401);
      const info = await cluster.api('GET', '/api/serverinfo');
      assert.equal(info.status, 200, info.text);
      const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
      assert.equal(info.body.version, pkg.version);
      assert.equal(info.body.api_url, cluster.url);
      assert.equal(info.body.grpc_url, `grpc://${cluster.grpcAddr}`);
    });

    it('serves the OpenAPI document listing the main paths', async () => {
      const doc = await fetchJson(`${cluster.url}/api/openapi.json`);
      assert.equal(doc.status, 200, doc.text);
      assert.match(String(doc.body.openapi), /^3\./);
      const paths = Object.keys(doc.body.paths);
      for (const route of ['/sessions', '/sessions/{session_id}', '/connections', '/agents']) {
        assert.ok(paths.includes(route), `missing ${route} in ${paths.join(', ')}`);
      }
      assert.ok(doc.body.paths['/sessions'].post);
      assert.ok(doc.body.paths['/sessions'].get);
      assert.ok(doc.body.paths['/sessions/{session_id}'].get);
    });

    it('keeps the admin key in a 0600 file and prints it once, on the first start only', async () => {
      const file = path.join(cluster.dataDir, 'admin-api-key');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.match(cluster.adminKey, /^\S{20,}$/);
      await waitFor('the key on the terminal', async () => (cluster.gateway.output().includes(cluster.adminKey) ? true : undefined));
      assert.equal(occurrences(cluster.gateway.output(), cluster.adminKey), 1, 'the key must be printed exactly once');

      await cluster.stopGateway();
      await cluster.startGateway();
      await cluster.waitAgentStatus('CONNECTED');
      const output = cluster.gateway.output();
      assert.equal(output.includes(cluster.adminKey), false, 'the key was printed again');
      assert.doesNotMatch(output, /admin api key/i);
      assert.doesNotMatch(output, /hpk_/);
      assert.equal((await readFile(file, 'utf8')).trim(), cluster.adminKey);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      const still = await cluster.api('GET', '/api/connections');
      assert.equal(still.status, 200, still.text);
    });
  });

  describe(`API_KEY from the environment (${store})`, () => {
    let gateway: Awaited<ReturnType<typeof startBareGateway>>;
    before(async () => {
      gateway = await startBareGateway(store, { API_KEY: 'xyz' });
    });
    after(async () => {
      await gateway?.stop();
    });

    it('accepts Bearer <API_KEY> and Api-Key: <API_KEY> as admin', async () => {
      const bearer = await fetchJson(`${gateway.url}/api/serverinfo`, { authorization: 'Bearer xyz' });
      assert.equal(bearer.status, 200, bearer.text);
      const apiKey = await fetchJson(`${gateway.url}/api/agents`, { 'api-key': 'xyz' });
      assert.equal(apiKey.status, 200, apiKey.text);
      const adminOnly = await fetch(`${gateway.url}/api/agents`, {
        method: 'POST',
        headers: { authorization: 'Bearer xyz', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'from-env-key' }),
      });
      assert.equal(adminOnly.status, 201);
    });

    it('rejects other keys', async () => {
      assertErrorBody(await fetchJson(`${gateway.url}/api/serverinfo`, { authorization: 'Bearer xyzz' }), 401);
      assertErrorBody(await fetchJson(`${gateway.url}/api/serverinfo`, { authorization: 'Bearer xy' }), 401);
      assertErrorBody(await fetchJson(`${gateway.url}/api/serverinfo`), 401);
    });

    it('creates and prints no admin key of its own', async () => {
      assert.equal(existsSync(path.join(gateway.dataDir, 'admin-api-key')), false);
      assert.doesNotMatch(gateway.handle.output(), /admin api key/i);
    });
  });

  describe(`connections (${store})`, () => {
    let cluster: Cluster;
    let agentId: string;
    const plain = 's3cr3t-plain-value';
    const connection = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      type: 'custom',
      command: ['bash'],
      agent_id: agentId,
      ...extra,
    });
    before(async () => {
      cluster = await startCluster(store);
      agentId = (await cluster.api('GET', '/api/agents/test-agent')).body.id;
    });
    after(async () => {
      await cluster?.stop();
    });

    it('creates a connection (201) and shows its secrets redacted', async () => {
      const created = await cluster.api('POST', '/api/connections', connection('with-secret', { secret: { 'envvar:PASSWORD': b64(plain) } }));
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.name, 'with-secret');
      assert.equal(created.body.type, 'custom');
      assert.deepEqual(created.body.command, ['bash']);
      assert.equal(created.body.agent_id, agentId);
      assert.equal(created.body.status, 'online');
      assert.match(created.body.id, /^[0-9a-f-]{36}$/);
      assert.deepEqual(created.body.secret, { 'envvar:PASSWORD': '*****' });
      assert.equal(created.text.includes(plain), false);
      assert.equal(created.text.includes(b64(plain)), false);

      const run = await cluster.exec({ connection: 'with-secret', script: 'printf %s "$PASSWORD"' });
      assert.equal(run.body.output, plain);
    });

    it('never returns a clear secret value from GET or the list', async () => {
      const one = await cluster.api('GET', '/api/connections/with-secret');
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(one.body.secret, { 'envvar:PASSWORD': '*****' });
      const byId = await cluster.api('GET', `/api/connections/${one.body.id}`);
      assert.equal(byId.body.name, 'with-secret');
      const list = await cluster.api('GET', '/api/connections');
      assert.equal(list.status, 200, list.text);
      assert.ok(list.body.some((c: any) => c.name === 'with-secret'));
      for (const response of [one, byId, list]) {
        assert.equal(response.text.includes(plain), false);
        assert.equal(response.text.includes(b64(plain)), false);
      }
    });

    it('answers a duplicate name with 409', async () => {
      assertErrorBody(await cluster.api('POST', '/api/connections', connection('with-secret')), 409, 'Connection already exists.');
    });

    it('validates names (422)', async () => {
      for (const name of ['ab', 'a-b', '-abc', 'abc-', 'a--bc', 'a b c', 'ab/c', '']) {
        assertErrorBody(await cluster.api('POST', '/api/connections', connection(name)), 422, new RegExp(NAME_MESSAGE.replace(/[()]/g, '\\$&')));
      }
      for (const name of ['abc', 'a-bc', 'pg.demo_1']) {
        const ok = await cluster.api('POST', '/api/connections', connection(name));
        assert.equal(ok.status, 201, `${name}: ${ok.text}`);
      }
    });

    it('validates the type (422)', async () => {
      assertErrorBody(await cluster.api('POST', '/api/connections', connection('bad-type', { type: 'foo' })), 422);
      assert.equal((await cluster.api('GET', '/api/connections/bad-type')).status, 404);
    });

    it('validates secret keys and base64 values (422)', async () => {
      for (const secret of [
        { PASSWORD: b64('x') },
        { 'other:PASSWORD': b64('x') },
        { 'envvar:': b64('x') },
        { 'envvar:PASS:WORD': b64('x') },
        { 'envvar:PASSWORD': 'not base64!' },
        { 'filesystem:CERT': 'abc' },
        { 'envvar:PASSWORD': 1 },
      ]) {
        const response = await cluster.api('POST', '/api/connections', connection('bad-secret', { secret }));
        assertErrorBody(response, 422);
      }
      assert.equal((await cluster.api('GET', '/api/connections/bad-secret')).status, 404);
    });

    it('answers missing required fields with 400', async () => {
      const { agent_id: _agent, ...withoutAgent } = connection('no-agent');
      assertErrorBody(await cluster.api('POST', '/api/connections', withoutAgent), 400);
      const { name: _name, ...withoutName } = connection('x');
      assertErrorBody(await cluster.api('POST', '/api/connections', withoutName), 400);
      assertErrorBody(await cluster.api('POST', '/api/connections', connection('bad-agent-id', { agent_id: 'not-a-uuid' })), 422);
    });

    it('keeps the stored secret when PUT sends the redacted value back, and changes it on a new value', async () => {
      const current = await cluster.api('GET', '/api/connections/with-secret');
      const kept = await cluster.api('PUT', '/api/connections/with-secret', {
        ...current.body,
        command: ['bash', '--noprofile'],
        secret: { ...current.body.secret, 'envvar:OTHER': b64('other') },
      });
      assert.equal(kept.status, 200, kept.text);
      assert.deepEqual(kept.body.command, ['bash', '--noprofile']);
      assert.deepEqual(kept.body.secret, { 'envvar:PASSWORD': '*****', 'envvar:OTHER': '*****' });
      const run = await cluster.exec({ connection: 'with-secret', script: 'printf "%s|%s" "$PASSWORD" "$OTHER"' });
      assert.equal(run.body.output, `${plain}|other`);

      const changed = await cluster.api('PUT', '/api/connections/with-secret', {
        ...current.body,
        secret: { 'envvar:PASSWORD': b64('new-value') },
      });
      assert.equal(changed.status, 200, changed.text);
      assert.deepEqual(changed.body.secret, { 'envvar:PASSWORD': '*****' });
      const replaced = await cluster.exec({ connection: 'with-secret', script: 'printf "%s|%s" "$PASSWORD" "${OTHER-unset}"' });
      assert.equal(replaced.body.output, 'new-value|unset');

      // The redacted value cannot stand for a secret that was never stored.
      const unknown = await cluster.api('PUT', '/api/connections/with-secret', {
        ...current.body,
        secret: { 'envvar:PASSWORD': '*****', 'envvar:NEVER_STORED': '*****' },
      });
      assertErrorBody(unknown, 422);
      const still = await cluster.exec({ connection: 'with-secret', script: 'printf %s "$PASSWORD"' });
      assert.equal(still.body.output, 'new-value');

      assertErrorBody(await cluster.api('PUT', '/api/connections/no-such-connection', current.body), 404);
    });

    it('encrypts secrets at rest', { skip: store !== 'postgres' && 'needs direct database access' }, async () => {
      const marker = 'at-rest-marker-0123456789';
      const created = await cluster.api('POST', '/api/connections', connection('at-rest', { secret: { 'envvar:TOKEN': b64(marker) } }));
      assert.equal(created.status, 201, created.text);
      const rows = await queryDatabase(cluster.postgresUri!, 'SELECT * FROM connections WHERE name = $1', ['at-rest']);
      assert.equal(rows.rows.length, 1);
      const sealed: Buffer = rows.rows[0].secret_sealed;
      assert.ok(Buffer.isBuffer(sealed) && sealed.length > marker.length);
      for (const needle of [marker, b64(marker), 'envvar:TOKEN']) {
        assert.equal(sealed.includes(Buffer.from(needle)), false, `${needle} stored in clear`);
        assert.equal(sealed.toString('hex').includes(Buffer.from(needle).toString('hex')), false);
      }
      const everything = JSON.stringify(rows.rows[0], (_key, value) =>
        value && value.type === 'Buffer' ? Buffer.from(value.data).toString('latin1') : value,
      );
      assert.equal(everything.includes(marker), false);
      assert.equal(everything.includes(b64(marker)), false);
    });

    it('deletes a connection (204), after which it is not found', async () => {
      await cluster.api('POST', '/api/connections', connection('to-delete'));
      const deleted = await cluster.api('DELETE', '/api/connections/to-delete');
      assert.equal(deleted.status, 204, deleted.text);
      assert.equal(deleted.text, '');
      assertErrorBody(await cluster.api('GET', '/api/connections/to-delete'), 404, 'not found');
      assertErrorBody(await cluster.api('DELETE', '/api/connections/to-delete'), 404);
      assertErrorBody(await cluster.exec({ connection: 'to-delete', script: 'echo' }), 400, 'connection to-delete not found');
      const list = await cluster.api('GET', '/api/connections');
      assert.equal(list.body.some((c: any) => c.name === 'to-delete'), false);
    });

    it('reports online while the agent is connected and offline after it stops', async () => {
      assert.equal((await cluster.api('GET', '/api/connections/bash')).body.status, 'online');
      await cluster.stopAgent();
      await cluster.waitAgentStatus('DISCONNECTED');
      await waitFor('the connection to be offline', async () => {
        const response = await cluster.api('GET', '/api/connections/bash');
        return response.body.status === 'offline' ? true : undefined;
      });
      const list = await cluster.api('GET', '/api/connections');
      assert.ok(list.body.every((c: any) => c.status === 'offline'));
    });
  });

  describe(`agents (${store})`, () => {
    let cluster: Cluster;
    let token: string;
    let secret: string;
    before(async () => {
      cluster = await startCluster(store);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('returns the token once, as a DSN grpc://name:secret@host:port?mode=standard', async () => {
      const created = await cluster.api('POST', '/api/agents', { name: 'agent-two' });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(Object.keys(created.body), ['token']);
      token = created.body.token;
      const match = /^grpc:\/\/agent-two:([^@]+)@([^?]+)\?mode=standard$/.exec(token);
      assert.ok(match, token);
      secret = decodeURIComponent(match[1]!);
      assert.match(secret, /^xagt-[A-Za-z0-9_-]{43}$/);
      assert.equal(match[2], cluster.grpcAddr);

      const embedded = await cluster.api('POST', '/api/agents', { name: 'agent-embedded', mode: 'embedded' });
      assert.equal(embedded.status, 201, embedded.text);
      assert.match(embedded.body.token, /^grpc:\/\/agent-embedded:xagt-[^@]+@[^?]+\?mode=embedded$/);
      assert.equal((await cluster.api('GET', '/api/agents/agent-embedded')).body.mode, 'embedded');
    });

    it('never shows the token again', async () => {
      const one = await cluster.api('GET', '/api/agents/agent-two');
      assert.equal(one.status, 200, one.text);
      assert.equal(one.body.token, '');
      assert.equal(one.body.name, 'agent-two');
      assert.equal(one.body.mode, 'standard');
      assert.equal(one.body.status, 'DISCONNECTED');
      const list = await cluster.api('GET', '/api/agents');
      assert.ok(list.body.length >= 2);
      for (const agent of list.body) assert.equal(agent.token, '');
      for (const response of [one, list]) {
        assert.equal(response.text.includes(secret), false);
        assert.equal(response.text.includes(secret.slice(5)), false);
      }
    });

    it('stores only the SHA-256 of the secret', { skip: store !== 'postgres' && 'needs direct database access' }, async () => {
      const rows = await queryDatabase(cluster.postgresUri!, 'SELECT * FROM agents WHERE name = $1', ['agent-two']);
      assert.equal(rows.rows.length, 1);
      assert.equal(rows.rows[0].key_hash, sha256Hex(secret));
      const everything = JSON.stringify(await queryDatabase(cluster.postgresUri!, 'SELECT * FROM agents'));
      assert.equal(everything.includes(secret.slice(5)), false, 'the secret is stored in clear');
    });

    it('validates name and mode (422) and refuses duplicates (409)', async () => {
      for (const name of ['ab', 'a-b', 'no spaces']) {
        assertErrorBody(await cluster.api('POST', '/api/agents', { name }), 422, NAME_MESSAGE);
      }
      assertErrorBody(await cluster.api('POST', '/api/agents', { name: 'agent-three', mode: 'weird' }), 422, 'unknown agent mode "weird"');
      assertErrorBody(await cluster.api('POST', '/api/agents', { name: 'agent-three', mode: '' }), 422, 'unknown agent mode ""');
      assertErrorBody(await cluster.api('POST', '/api/agents', { name: 'agent-two' }), 409, 'resource already exists');
      assertErrorBody(await cluster.api('POST', '/api/agents', {}), 400);
      assertErrorBody(await cluster.api('POST', '/api/agents', { name: 7 }), 400);
      assertErrorBody(await cluster.api('GET', '/api/agents/agent-three'), 404, 'agent not found');
    });

    it('lists the connected agent with its version and hostname', async () => {
      const info = await cluster.api('GET', '/api/serverinfo');
      const list = await cluster.api('GET', '/api/agents');
      assert.equal(list.status, 200, list.text);
      const agent = list.body.find((a: any) => a.name === 'test-agent');
      assert.ok(agent, list.text);
      assert.equal(agent.status, 'CONNECTED');
      assert.equal(agent.version, info.body.version);
      assert.equal(agent.hostname, hostname());
      assert.equal(agent.metadata.hostname, hostname());
      assert.equal(agent.platform, `${process.platform}/${process.arch}`);

      const connected = await cluster.api('GET', '/api/agents?status=CONNECTED');
      assert.deepEqual(connected.body.map((a: any) => a.name), ['test-agent']);
      const disconnected = await cluster.api('GET', '/api/agents?status=DISCONNECTED');
      assert.ok(disconnected.body.some((a: any) => a.name === 'agent-two'));
      assert.equal(disconnected.body.some((a: any) => a.name === 'test-agent'), false);
    });

    it('revokes on DELETE: the live agent is dropped and cannot reconnect', async () => {
      const agentTwo = spawnGatehouse('agent', { GATEHOUSE_AGENT_KEY: token });
      try {
        await waitFor('agent-two to connect', async () => {
          const response = await cluster.api('GET', '/api/agents/agent-two');
          return response.body?.status === 'CONNECTED' ? true : undefined;
        });
        const id = (await cluster.api('GET', '/api/agents/agent-two')).body.id;
        const created = await cluster.api('POST', '/api/connections', { name: 'on-two', type: 'custom', command: ['bash'], agent_id: id });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.body.status, 'online');
        const working = await cluster.exec({ connection: 'on-two', script: 'echo two' });
        assert.equal(working.body.output, 'two\n');

        const deleted = await cluster.api('DELETE', '/api/agents/agent-two');
        assert.equal(deleted.status, 204, deleted.text);
        assertErrorBody(await cluster.api('GET', '/api/agents/agent-two'), 404, 'agent not found');
        const connected = await cluster.api('GET', '/api/agents?status=CONNECTED');
        assert.deepEqual(connected.body.map((a: any) => a.name), ['test-agent']);

        // Dropped (first refusal), then it tries again and is refused again.
        await waitFor('agent-two to be refused on reconnecting', async () =>
          occurrences(agentTwo.output(), 'refused this agent key') >= 2 ? true : undefined,
        );
        assert.equal(agentTwo.child.exitCode, null, 'the agent keeps running, it is the gateway that refuses it');
        const revoked = await cluster.exec({ connection: 'on-two', script: 'echo two' });
        assert.equal(revoked.status, 200, revoked.text);
        assert.equal(revoked.body.output_status, 'failed');
        assert.equal(revoked.body.exit_code, -2);
        assert.match(revoked.body.output, /agent is offline/);
        assert.equal((await cluster.api('GET', '/api/connections/on-two')).body.status, 'offline');

        // The other agent is untouched.
        assert.equal((await cluster.exec({ script: 'echo still' })).body.output, 'still\n');
      } finally {
        agentTwo.child.kill('SIGKILL');
        await agentTwo.exited;
      }
    });
  });
}
