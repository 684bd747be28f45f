import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, type ApiResponse, type Cluster } from './support/cluster.js';
import { createTestRepository, startGitHttpServer, type GitHttpServer } from './support/git-server.js';

/**
 * Secrets never come back: after a run that uses every kind of secret (a user's password and
 * login token, API keys, a connection secret, a git token), neither
 * an API answer nor the gateway's or agent's logs (at debug level) contain any of them.
 */

describe('secrets stay secret across a full run', () => {
  let cluster: Cluster;
  let root: string;
  let http: GitHttpServer;
  const answers: ApiResponse[] = [];
  const secrets = {
    password: 'pw-7Hq2-correct-horse',
    connectionSecret: 'db-secret-5f1e9a',
    gitToken: 'git-token-0c4b2d',
  } as Record<string, string>;

  const call = async (method: string, route: string, body?: unknown, headers?: Record<string, string>) => {
    const response = await cluster.api(method, route, body, headers);
    answers.push(response);
    return response;
  };

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gatehouse-secrets-'));
    await createTestRepository(root, 'ops', [{ message: 'one', files: { 'check.runbook.sh': 'test -n "$DB_PASSWORD" && echo has-secret\n' } }]);
    http = await startGitHttpServer({ projectRoot: root, user: 'oauth2', password: secrets.gitToken! });
    cluster = await startCluster('pglite', { GATEHOUSE_LOG_LEVEL: 'debug' });
  });

  after(async () => {
    await cluster?.stop();
    await http?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('runs with every kind of secret', async () => {
    const registered = await call('POST', '/api/localauth/register', { email: 'ops@example.com', password: secrets.password, name: 'Ops' });
    assert.equal(registered.status, 201, registered.text);
    secrets.loginToken = registered.headers.get('token')!;
    const asUser = { authorization: `Bearer ${secrets.loginToken}` };
    // The one answer meant to carry a key; it is left out of the search below.
    const key = await cluster.api('POST', '/api/api-keys', { name: 'secrets-bot', groups: ['admin'] });
    secrets.apiKey = key.body.key;
    const asKey = { authorization: `Bearer ${secrets.apiKey}` };

    const agentId = (await call('GET', '/api/agents/test-agent')).body.id;
    const connection = await call(
      'POST',
      '/api/connections',
      { name: 'vault-db', type: 'custom', command: ['bash'], agent_id: agentId, secret: { 'envvar:DB_PASSWORD': b64(secrets.connectionSecret!) } },
      asKey,
    );
    assert.equal(connection.status, 201, connection.text);
    await call('GET', '/api/connections/vault-db', undefined, asUser);
    const exec = await call('POST', '/api/sessions', { connection: 'vault-db', script: 'test -n "$DB_PASSWORD" && echo has-secret' }, asUser);
    assert.equal(exec.body.output, 'has-secret\n');
    await call('GET', `/api/sessions/${exec.body.session_id}?expand=event_stream`, undefined, asUser);

    const repository = await call('POST', '/api/runbooks/configurations', { git_url: http.url('ops'), git_password: secrets.gitToken }, asKey);
    assert.equal(repository.status, 201, repository.text);
    await call('GET', '/api/runbooks/configurations', undefined, asKey);
    const runbook = await call('POST', '/api/runbooks/exec', { connection_name: 'vault-db', repository: repository.body.repository, file_name: 'check.runbook.sh' }, asUser);
    assert.equal(runbook.body.output, 'has-secret\n', runbook.text);
    await call('POST', '/api/localauth/login', { email: 'ops@example.com', password: 'wrong-password' });
    await call('GET', '/api/users', undefined, asUser);
    await call('GET', '/api/api-keys', undefined, asKey);
  });

  it('finds none of them in any answer or log', () => {
    // The first admin key is shown once, on the terminal, at first start: that is its only trace.
    const gatewayOutput = cluster.gateway.output();
    assert.equal(gatewayOutput.split(cluster.adminKey).length - 1, 1);
    assert.match(gatewayOutput, new RegExp(`Admin API key \\(shown once[^\\n]*\\n\\n  ${cluster.adminKey}\\n`));
    assert.ok(answers.every((a) => !a.text.includes(cluster.adminKey)));
    const texts = [
      ...answers.map((a) => `${a.status} ${[...a.headers.entries()].filter(([name]) => name !== 'token').join(' ')} ${a.text}`),
      cluster.gateway.output(),
      cluster.agent.output(),
    ];
    assert.ok(cluster.gateway.output().includes('request completed'), 'the gateway logged its requests');
    for (const [name, value] of Object.entries(secrets)) {
      for (const text of texts) assert.ok(!text.includes(value), `${name} appears in: ${text.slice(0, 300)}`);
    }
  });
});
