import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, STORES, type Cluster } from './support/cluster.js';
import { createTestRepository, startGitHttpServer, type GitHttpServer, type TestRepository } from './support/git-server.js';
import { assertErrorBody } from './support/http-assertions.js';

/**
 * Runbooks end to end: real gateway and agent processes, real git repositories (file:// and
 * smart HTTP with a token), runs against bash and against PostgreSQL through psql.
 */

const TOKEN = 'tok-3c1f9e2a7b';

const FIRST = {
  message: 'first runbooks',
  files: {
    'ops/hello.runbook.sh': 'echo "hello {{ .name }}"\n',
    'README.md': 'not a runbook\n',
  },
};
const SECOND = {
  message: 'second runbooks',
  files: {
    'ops/hello.runbook.sh': 'echo "hi {{ .name | required "name is required" }} from v2"\n',
    'ops/deploy.runbook.sh': [
      '# region {{ .region | options "eu" "us" | type "select" | description "Where" }}',
      '{{- .token | asenv "DEPLOY_TOKEN" }}',
      'echo "region=$DEPLOY_REGION token=$DEPLOY_TOKEN"',
      '',
    ].join('\n'),
    'ops/secret-file.runbook.sh': 'echo "file=$CERT"; cat "$CERT"; echo\n',
    'ops/count.runbook.sh': 'test {{ .count | type "number" }} -gt 0 && echo positive\n',
    'ops/broken.runbook.sh': '{{ .x }\n',
    'db/users.runbook.sql': "SELECT {{ .id | type \"number\" }} + 1 AS next, '{{ .label | default \"none\" }}' AS label;\n",
    'outside/skipped.runbook.sh': 'echo outside\n',
    'ops/large.runbook.sh': Buffer.alloc(1_000_001, 0x41),
  },
};

for (const store of STORES) {
  describe(`runbooks (${store})`, () => {
    let cluster: Cluster;
    let root: string;
    let repo: TestRepository;
    let http: GitHttpServer;
    let fileUrl: string;

    before(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'gatehouse-runbooks-'));
      repo = await createTestRepository(root, 'team', [FIRST, SECOND]);
      fileUrl = `file://${repo.bareDir}`;
      http = await startGitHttpServer({ projectRoot: root, user: 'oauth2', password: TOKEN });
      cluster = await startCluster(store);
    });

    after(async () => {
      await cluster?.stop();
      await http?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    const repositoryName = () => `local${repo.bareDir.replace(/\.git$/, '')}`;
    /** `POST /api/runbooks/exec` on bash in the test repository, unless the body says otherwise. */
    const runbookExec = (body: Record<string, unknown>) =>
      cluster.api('POST', '/api/runbooks/exec', { connection_name: 'bash', repository: repositoryName(), ...body });

    it('answers 404 while nothing is configured', async () => {
      assertErrorBody(await cluster.api('GET', '/api/runbooks/configurations'), 404, 'runbook configuration not found');
      assertErrorBody(await cluster.api('GET', '/api/runbooks'), 404, 'runbook configuration not found');
    });

    it('configures repositories: validation, conflicts, secrets never shown', async () => {
      assertErrorBody(await cluster.api('POST', '/api/runbooks/configurations', { git_url: 'ftp://host/x' }), 422, /^invalid git url, reason=invalid scheme: ftp/);
      const created = await cluster.api('POST', '/api/runbooks/configurations', { git_url: fileUrl, path_prefix: 'ops/', git_password: 'not-shown' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.repository, repositoryName());
      assert.equal(created.body.git_password, '*****');
      assert.doesNotMatch(created.text, /not-shown/);
      assertErrorBody(await cluster.api('POST', '/api/runbooks/configurations', { git_url: fileUrl }), 409, 'resource already exists');

      const listed = await cluster.api('GET', '/api/runbooks/configurations');
      assert.equal(listed.status, 200);
      assert.equal(listed.body.repositories.length, 1);
      assert.doesNotMatch(listed.text, /not-shown/);

      const id = await configId(fileUrl);
      assertErrorBody(await cluster.api('PUT', `/api/runbooks/configurations/${id}`, { git_url: `${fileUrl}x` }), 400, 'git url in the path and body do not match');
      // Sending the redacted value back keeps the stored secret; dropping the prefix widens the repository.
      const updated = await cluster.api('PUT', `/api/runbooks/configurations/${id}`, { git_url: fileUrl, git_password: '*****' });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.git_password, '*****');
      assert.equal(updated.body.path_prefix, '');
      assertErrorBody(await cluster.api('DELETE', '/api/runbooks/configurations/00000000-0000-5000-8000-000000000000'), 404, 'resource not found');
    });

    it('lists runbook files with their parameters, per-file errors, and the commit', async () => {
      const list = await cluster.api('GET', '/api/runbooks?list_connections=true');
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body.errors, []);
      const [repository] = list.body.repositories;
      assert.equal(repository.repository, repositoryName());
      assert.equal(repository.commit, repo.commits[1]);
      assert.equal(repository.commit_message, 'second runbooks');
      const byName = Object.fromEntries(repository.items.map((item: any) => [item.name, item]));
      assert.ok(!('README.md' in byName), 'only .runbook. files are listed');
      assert.deepEqual(byName['ops/deploy.runbook.sh'].metadata.region, { type: 'select', required: false, description: 'Where', options: ['eu', 'us'] });
      assert.equal(byName['ops/deploy.runbook.sh'].metadata.token.asenv, 'DEPLOY_TOKEN');
      assert.deepEqual(byName['ops/deploy.runbook.sh'].connections, ['bash']);
      assert.match(byName['ops/broken.runbook.sh'].error, /^template parse error: template: :1: /);
      assert.equal(byName['ops/large.runbook.sh'].error, 'max template size [1000 KB] reached');
      assert.equal(byName['ops/hello.runbook.sh'].error, null);

      const v1 = await cluster.api('GET', '/api/plugins/runbooks/connections/bash/templates');
      assert.equal(v1.status, 200, v1.text);
      assert.equal(v1.body.commit, repo.commits[1]);
      assert.ok(v1.body.items.some((item: any) => item.name === 'ops/hello.runbook.sh'));
      assertErrorBody(await cluster.api('GET', '/api/plugins/runbooks/connections/nope/templates'), 404, 'connection not found');
    });

    it('runs a runbook on bash: rendered script as stdin, commit and parameters recorded', async () => {
      const run = await runbookExec({
        file_name: 'ops/hello.runbook.sh',
        parameters: { name: 'ada', unused: 'ignored' },
      });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'hi ada from v2\n');
      assert.equal(run.body.exit_code, 0);
      const session = await cluster.api('GET', `/api/sessions/${run.body.session_id}`);
      assert.equal(session.body.script.data, 'echo "hi ada from v2"\n');
      assert.equal(session.body.labels.runbookFile, 'ops/hello.runbook.sh');
      assert.equal(session.body.labels.runbookCommit, repo.commits[1]);
      assert.equal(session.body.labels.runbookRepository, repositoryName());
      assert.deepEqual(JSON.parse(session.body.labels.runbookParameters), { name: 'ada', unused: 'ignored' });
      assert.equal(session.body.status, 'done');
    });

    it('honours ref_hash: the file as it was at that commit, full or abbreviated', async () => {
      for (const ref of [repo.commits[0]!, repo.commits[0]!.slice(0, 10)]) {
        const run = await cluster.api('POST', '/api/plugins/runbooks/connections/bash/exec', {
          file_name: 'ops/hello.runbook.sh',
          ref_hash: ref,
          parameters: { name: 'old' },
        });
        assert.equal(run.status, 200, run.text);
        assert.equal(run.body.output, 'hello old\n');
        const session = await cluster.api('GET', `/api/sessions/${run.body.session_id}`);
        assert.equal(session.body.labels.runbookCommit, repo.commits[0]);
      }
      const unknown = await runbookExec({
        file_name: 'ops/hello.runbook.sh',
        ref_hash: 'deadbeefdeadbeef',
        parameters: { name: 'x' },
      });
      assertErrorBody(unknown, 404, /commit "deadbeefdeadbeef" on branch "main" not found/);
    });

    it('refuses bad parameters with the exact message, before any session', async () => {
      const exec = (file_name: string, parameters: Record<string, string>) => runbookExec({ file_name, parameters });
      assertErrorBody(await exec('ops/hello.runbook.sh', {}), 400, 'the following inputs are missing [name]');
      assertErrorBody(await exec('ops/hello.runbook.sh', { name: '' }), 400, /name is required/);
      assertErrorBody(await exec('ops/deploy.runbook.sh', { region: 'mars', token: 't' }), 400, /invalid value for parameter region: must be one of \[eu us\]/);
      assertErrorBody(await exec('ops/count.runbook.sh', { count: '1; rm -rf /' }), 400, /invalid value for parameter count: must be a number/);
      assertErrorBody(await exec('ops/broken.runbook.sh', { x: '1' }), 400, /^template: :1: /);
      assertErrorBody(await exec('ops/large.runbook.sh', {}), 400, /1000001 bytes/);
      const before = await cluster.api('GET', '/api/sessions?limit=100');
      assert.ok(before.body.data.every((s: any) => s.labels?.runbookFile !== 'ops/count.runbook.sh'));
    });

    it('never reads outside the repository', async () => {
      for (const file_name of ['../team.git/config', '/etc/passwd', './ops/hello.runbook.sh', 'ops/../ops/hello.runbook.sh', 'nope.runbook.sh']) {
        const run = await runbookExec({
          file_name,
          parameters: { name: 'x' },
        });
        assertErrorBody(run, 404, `runbook file ${file_name} not found on git repo`);
      }
    });

    it('exports asenv values and env_vars files (0600, removed after the run)', async () => {
      const deploy = await runbookExec({
        file_name: 'ops/deploy.runbook.sh',
        parameters: { region: 'eu', token: 's3cr3t' },
        // The runbook's own export wins over the request's.
        env_vars: { 'envvar:DEPLOY_REGION': b64('eu-west-1'), 'envvar:DEPLOY_TOKEN': b64('from-request') },
      });
      assert.equal(deploy.status, 200, deploy.text);
      assert.equal(deploy.body.output, 'region=eu-west-1 token=s3cr3t\n');

      const file = await runbookExec({
        file_name: 'ops/secret-file.runbook.sh',
        env_vars: { 'filesystem:CERT': b64('-----CERT-----') },
      });
      assert.equal(file.status, 200, file.text);
      const [first, content] = file.body.output.split('\n');
      const certPath = first.replace('file=', '');
      assert.equal(content, '-----CERT-----');
      assert.equal(existsSync(certPath), false, 'the secret file is removed after the run');
    });

    it('renders without running', async () => {
      const preview = await cluster.api('POST', '/api/runbooks/render', {
        file_name: 'ops/deploy.runbook.sh',
        parameters: { region: 'us', token: 'hidden-value' },
      });
      assert.equal(preview.status, 200, preview.text);
      assert.equal(preview.body.commit, repo.commits[1]);
      assert.equal(preview.body.script, '# region us\necho "region=$DEPLOY_REGION token=$DEPLOY_TOKEN"\n');
      assert.deepEqual(preview.body.env_vars, ['DEPLOY_TOKEN']);
      assert.doesNotMatch(preview.text, /hidden-value/);
      assertErrorBody(await cluster.api('POST', '/api/runbooks/render', { file_name: 'ops/hello.runbook.sh' }), 400, 'the following inputs are missing [name]');
    });

    it('runs a SQL runbook on PostgreSQL through psql', async () => {
      const created = await cluster.api('POST', '/api/connections', {
        name: 'pg-runbooks',
        type: 'custom',
        command: ['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1'],
        agent_id: (await cluster.api('GET', '/api/agents/test-agent')).body.id,
        secret: { 'envvar:PGHOST': b64('127.0.0.1'), 'envvar:PGUSER': b64('postgres'), 'envvar:PGDATABASE': b64('test') },
      });
      assert.equal(created.status, 201, created.text);
      const run = await runbookExec({ connection_name: 'pg-runbooks', file_name: 'db/users.runbook.sql', parameters: { id: '41', label: 'answer' } });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, '42|answer\n');
      const failed = await runbookExec({
        connection_name: 'pg-runbooks',
        file_name: 'db/users.runbook.sql',
        parameters: { id: '41' },
        client_args: ['-c', 'SELECT 1/0'],
      });
      assert.equal(failed.status, 200, failed.text);
      assert.equal(failed.body.output_status, 'failed');
      assert.match(failed.body.output, /division by zero/);
    });

    it('reads a repository over HTTP with a token, which never shows', async () => {
      const wrong = await cluster.api('POST', '/api/runbooks/configurations', { git_url: http.url('team'), git_password: 'wrong-token' });
      assert.equal(wrong.status, 201, wrong.text);
      const list = await cluster.api('GET', '/api/runbooks');
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.errors.length, 1);
      assert.match(list.body.errors[0], /authentication failed/);
      assert.doesNotMatch(list.text, /wrong-token/);

      const id = await configId(http.url('team'));
      const fixed = await cluster.api('PUT', `/api/runbooks/configurations/${id}`, { git_url: http.url('team'), git_password: TOKEN });
      assert.equal(fixed.status, 200, fixed.text);
      const run = await runbookExec({
        repository: fixed.body.repository,
        file_name: 'ops/hello.runbook.sh',
        parameters: { name: 'http' },
      });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'hi http from v2\n');
      const config = await cluster.api('GET', '/api/runbooks/configurations');
      assert.doesNotMatch(config.text, new RegExp(TOKEN));
      assert.equal(await containsText(cluster.dataDir, TOKEN), false, 'the token is not written in clear under the data dir');
    });

    it('names an unreachable repository without its credentials (502)', async () => {
      const url = 'http://127.0.0.1:9/gone.git';
      await cluster.api('PUT', '/api/runbooks/configurations', { repositories: [{ git_url: url, git_password: 'pw-9f8e7d' }] });
      const run = await runbookExec({
        repository: '127.0.0.1/gone',
        file_name: 'ops/hello.runbook.sh',
        parameters: { name: 'x' },
      });
      assertErrorBody(run, 502, /^failed fetching runbook repository 127\.0\.0\.1\/gone: .*unreachable/);
      assert.doesNotMatch(run.text, /pw-9f8e7d/);
    });
  });
}

async function configId(gitUrl: string): Promise<string> {
  const { repositoryConfigId } = await import('../src/runbooks/repository-name.js');
  return repositoryConfigId(gitUrl);
}

/** Whether any file under `dir` contains `text` (the gateway's data dir: store, caches, recordings). */
async function containsText(dir: string, text: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await readFile(file)).includes(text)) return true;
  }
  return false;
}
