import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, spawnGatehouse, startCluster, STORES, waitFor, type Cluster, type ProcessHandle } from './support/cluster.js';

describe('gateways sharing one PostgreSQL store', { skip: !STORES.includes('postgres') }, () => {
  let cluster: Cluster;
  let second: ProcessHandle | undefined;
  let secondDir: string;
  before(async () => {
    cluster = await startCluster('postgres', { GATEHOUSE_EXEC_WAIT_SECONDS: '1' });
    secondDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-second-'));
  });
  after(async () => {
    second?.child.kill('SIGKILL');
    await second?.exited;
    await cluster?.stop();
    await rm(secondDir, { recursive: true, force: true });
  });

  it('a second gateway starting leaves the first one\'s agent and running session alone', async () => {
    const running = await cluster.exec({ script: 'sleep 2; echo finished' });
    assert.equal(running.status, 202);

    const port = await freePort();
    second = spawnGatehouse('gateway', {
      GATEHOUSE_DATA_DIR: secondDir,
      GATEHOUSE_HTTP_ADDR: `127.0.0.1:${port}`,
      GATEHOUSE_GRPC_ADDR: `127.0.0.1:${await freePort()}`,
      POSTGRES_DB_URI: cluster.postgresUri!,
      API_KEY: 'second-gateway-key',
    });
    await waitFor('the second gateway', async () => ((await fetch(`http://127.0.0.1:${port}/api/healthz`).catch(() => undefined))?.ok ? true : undefined));

    const agent = await cluster.api('GET', '/api/agents/test-agent');
    assert.equal(agent.body.status, 'CONNECTED');
    const session = await waitFor('the session to finish', async () => {
      const response = await cluster.api('GET', `/api/sessions/${running.body.session_id}?expand=event_stream&event_stream=utf8`);
      return response.body.status === 'done' ? response.body : undefined;
    });
    assert.equal(session.exit_code, 0);
    assert.deepEqual(session.event_stream, ['finished\n']);

    // The second gateway reads the same sessions.
    const fromSecond = await fetch(`http://127.0.0.1:${port}/api/sessions/${running.body.session_id}`, {
      headers: { authorization: 'Bearer second-gateway-key' },
    }).then((r) => r.json());
    assert.equal(fromSecond.status, 'done');
  });
});
