import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { captureRawQuery, encodeCancelRequest } from '../src/wire/pg/index.js';
import { b64, freePort, spawnGatehouse, startCluster, STORES, waitFor, type Cluster } from './support/cluster.js';
import { startPasswordPostgres, type PasswordPostgres, type Role } from './support/password-postgres.js';

/**
 * Native PostgreSQL access end to end: real clients (psql, pgbench, the pg driver) talk to the
 * gateway's PostgreSQL port; separate gateway and agent processes; the agent logs in to a real
 * PostgreSQL server that asks for passwords (SCRAM, MD5 and cleartext roles).
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

interface EventTriple {
  0: number;
  1: 'i' | 'o' | 'e';
  2: string;
}

for (const store of STORES) {
  describe(`native postgres access (${store})`, () => {
    let server: PasswordPostgres;
    let cluster: Cluster;

    const createPgConnection = (name: string, role: Role, extra: Record<string, string> = {}, port?: number) =>
      cluster.createConnection(name, {
        type: 'database',
        subtype: 'postgres',
        command: [],
        secret: Object.fromEntries(
          Object.entries({ HOST: '127.0.0.1', PORT: String(port ?? server.port), USER: role.user, PASS: role.password, DB: server.database, ...extra }).map(
            ([key, value]) => [`envvar:${key}`, b64(value)],
          ),
        ),
      });

    const psql = (database: string, sql: string, password = cluster.adminKey, extraArgs: string[] = [], input?: string) =>
      run('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(cluster.pgPort), '-U', 'someone', '-d', database, ...extraArgs, '-c', sql], {
        PGPASSWORD: password,
        PGCONNECT_TIMEOUT: '20',
      }, input);

    const client = (database: string, password = cluster.adminKey) =>
      new pg.Client({ host: '127.0.0.1', port: cluster.pgPort, user: 'someone', database, password });

    /** The newest session of a connection, once it has ended. */
    const endedSession = (connection: string) =>
      waitFor(`the ${connection} session to end`, async () => {
        const list = await cluster.api('GET', `/api/sessions?connection=${connection}&limit=1`);
        const session = list.body.data[0];
        return session?.status === 'done' ? session : undefined;
      });

    const events = async (sessionId: string, format = 'raw'): Promise<EventTriple[]> =>
      (await cluster.api('GET', `/api/sessions/${sessionId}?expand=event_stream&event_stream=${format}`)).body.event_stream;

    before(async () => {
      server = await startPasswordPostgres();
      cluster = await startCluster(store);
      await createPgConnection('pg-scram', server.roles.scram);
      await createPgConnection('pg-md5', server.roles.md5);
      await createPgConnection('pg-plain', server.roles.plain);
    });

    after(async () => {
      await cluster?.stop();
      await server?.destroy();
    });

    it('psql logs in with SCRAM through the gateway; the session is a connect that ends with exit code 0 and its queries on record', async () => {
      const result = await psql('pg-scram', 'select current_user, current_database()');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), `gatehouse_scram|${server.database}`);

      const session = await endedSession('pg-scram');
      assert.equal(session.verb, 'connect');
      assert.equal(session.type, 'database');
      assert.equal(session.connection_subtype, 'postgres');
      assert.equal(session.exit_code, 0);
      assert.equal(session.end_reason, null);

      const raw = await events(session.id);
      assert.ok(raw.every((event) => event[1] === 'i'), 'result rows are not recorded');
      // The startup message names the Gatehouse user and connection, never the credential.
      const startup = Buffer.from(raw[0]![2], 'base64').toString('latin1');
      assert.match(startup, /user\0admin@gatehouse\.local\0database\0pg-scram\0/);
      assert.ok(!startup.includes(cluster.adminKey));
      const recorded = raw.map((event) => Buffer.from(event[2], 'base64').toString('latin1')).join('');
      assert.ok(!recorded.includes(cluster.adminKey), 'the password message is not recorded');
      assert.ok(recorded.includes('X\0\0\0\x04'), 'Terminate is recorded');

      const queries = await events(session.id, 'raw-queries');
      assert.deepEqual(
        queries.map((event) => Buffer.from(event[2], 'base64').toString('utf8')),
        ['select current_user, current_database()'],
      );
    });

    it('logs in with an MD5 role and with a cleartext-password role', async () => {
      for (const [connection, role] of [['pg-md5', server.roles.md5], ['pg-plain', server.roles.plain]] as const) {
        const result = await psql(connection, 'select current_user');
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), role.user);
        assert.equal((await endedSession(connection)).exit_code, 0);
      }
    });

    it('never lets the database password reach the client side, the gateway logs or the recording', async () => {
      // A relay in front of the gateway's port keeps every byte either way.
      const captured: Buffer[] = [];
      const relay = net.createServer((local) => {
        const remote = net.connect(cluster.pgPort, '127.0.0.1');
        local.on('data', (data: Buffer) => captured.push(Buffer.from(data)));
        remote.on('data', (data: Buffer) => captured.push(Buffer.from(data)));
        local.pipe(remote).pipe(local);
        local.on('error', () => remote.destroy());
        remote.on('error', () => local.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
      const relayPort = (relay.address() as net.AddressInfo).port;
      try {
        for (const connection of ['pg-scram', 'pg-md5', 'pg-plain']) {
          const result = await run('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(relayPort), '-d', connection, '-c', 'select 1'], { PGPASSWORD: cluster.adminKey });
          assert.equal(result.code, 0, result.stderr);
          const session = await endedSession(connection);
          const stored = JSON.stringify(await events(session.id)) + JSON.stringify(await events(session.id, 'utf8'));
          for (const role of Object.values(server.roles)) assert.ok(!stored.includes(role.password) && !stored.includes(b64(role.password)));
        }
      } finally {
        relay.close();
      }
      const wire = Buffer.concat(captured).toString('latin1');
      assert.ok(wire.includes('gatehouse_'), 'the capture saw the sessions');
      for (const role of Object.values(server.roles)) {
        assert.ok(!wire.includes(role.password), `the ${role.user} password crossed the client's socket`);
        assert.ok(!cluster.gateway.output().includes(role.password), `the ${role.user} password is in the gateway's logs`);
      }
    });

    it('the pg driver: prepared statements with bound parameters (recorded), COPY in and out, and raw-queries shows their SQL', async () => {
      const db = client('pg-scram');
      await db.connect();
      const first = await db.query({ name: 'add-one', text: 'select $1::int + 1 as n', values: [41] });
      const second = await db.query({ name: 'add-one', text: 'select $1::int + 1 as n', values: [99] });
      assert.deepEqual([first.rows[0].n, second.rows[0].n], [42, 100]);
      const table = `driver_copy_${randomBytes(3).toString('hex')}`;
      await db.query(`create temporary table ${table} (id int, name text)`);
      await pipeline(Readable.from(['1\tone\n', '2\ttwo\n']), db.query(copyFrom(`copy ${table} from stdin`)));
      const copied: Buffer[] = [];
      await pipeline(db.query(copyTo(`copy (select * from ${table} order by id) to stdout`)), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) copied.push(chunk);
      });
      assert.equal(Buffer.concat(copied).toString(), '1\tone\n2\ttwo\n');
      await db.end();

      const session = await endedSession('pg-scram');
      assert.equal(session.exit_code, 0);
      const captured = (await events(session.id)).map((event) => {
        try {
          return captureRawQuery(Buffer.from(event[2], 'base64'));
        } catch {
          return null;
        }
      });
      const binds = captured.filter((statement) => statement?.kind === 'bind');
      assert.deepEqual(
        binds.map((bind) => (bind?.kind === 'bind' ? bind.parameters : [])),
        [['41'], ['99']],
      );
      const queries = (await events(session.id, 'raw-queries')).map((event) => Buffer.from(event[2], 'base64').toString('utf8'));
      assert.deepEqual(queries.slice(0, 2), ['select $1::int + 1 as n', `create temporary table ${table} (id int, name text)`]);
    });

    it('COPY in and out, and pgbench (initialisation by COPY, select-only and TPC-B-like runs) through the gateway', async () => {
      const table = `copy_${randomBytes(3).toString('hex')}`;
      assert.equal((await psql('pg-scram', `create table ${table} (id int, name text)`)).code, 0);
      const copyIn = await psql('pg-scram', `\\copy ${table} from stdin`, cluster.adminKey, [], '1\tone\n2\ttwo\n');
      assert.equal(copyIn.code, 0, copyIn.stderr);
      const copyOut = await psql('pg-scram', `copy (select * from ${table} order by id) to stdout`);
      assert.equal(copyOut.stdout, '1\tone\n2\ttwo\n');

      const pgbench = (args: string[]) =>
        run('pgbench', ['-h', '127.0.0.1', '-p', String(cluster.pgPort), '-U', 'someone', ...args, 'pg-md5'], { PGPASSWORD: cluster.adminKey });
      const init = await pgbench(['-i', '-s', '1', '-q']);
      assert.equal(init.code, 0, init.stderr);
      const selectOnly = await pgbench(['-S', '-c', '4', '-j', '2', '-t', '50', '-n']);
      assert.equal(selectOnly.code, 0, selectOnly.stderr);
      assert.match(selectOnly.stdout, /number of transactions actually processed: 200\/200/);
      const tpcb = await pgbench(['-c', '2', '-t', '25', '-n']);
      assert.equal(tpcb.code, 0, tpcb.stderr);
      assert.match(tpcb.stdout, /number of transactions actually processed: 50\/50/);
    });

    it('a CancelRequest on a new connection cancels the running query', async () => {
      const db = client('pg-scram');
      await db.connect();
      const sleeping = db.query('select pg_sleep(60)');
      sleeping.catch(() => {}); // it fails while the test is still waiting on something else; asserted below
      await waitFor('pg_sleep to run', async () =>
        (await server.superuser("select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'")).trim() === '1' ? true : undefined,
      );
      const { processID, secretKey } = db as unknown as { processID: number; secretKey: number };
      const key = Buffer.alloc(4);
      key.writeInt32BE(secretKey);
      const cancel = net.connect(cluster.pgPort, '127.0.0.1');
      cancel.end(encodeCancelRequest(processID, key));
      cancel.on('error', () => {});
      await assert.rejects(sleeping, (error: { code?: string }) => error.code === '57014');
      assert.equal((await db.query('select 7 as n')).rows[0].n, 7, 'the connection goes on after the cancel');
      await db.end();
    });

    it('refuses a wrong credential and an unknown connection with PostgreSQL errors, storing no session', async () => {
      const before = (await cluster.api('GET', '/api/sessions?limit=1')).body.total;
      const wrong = await psql('pg-scram', 'select 1', 'hpk_not-a-real-key');
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /password authentication failed/);
      const unknown = await psql('no-such-connection', 'select 1');
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /connection "no-such-connection" not found/);
      const custom = await psql('bash', 'select 1');
      assert.match(custom.stderr, /connection "bash" is not a postgres database connection/);
      assert.equal((await cluster.api('GET', '/api/sessions?limit=1')).body.total, before);
    });

    it('a database that is down: the client gets an error naming host and port, the session is closed', async () => {
      const closedPort = await freePort();
      await createPgConnection('pg-down', server.roles.scram, {}, closedPort);
      const result = await psql('pg-down', 'select 1');
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, new RegExp(`failed connecting to remote host=127\\.0\\.0\\.1, port=${closedPort}`));
      assert.ok(!result.stderr.includes(server.roles.scram.password));
      const session = await endedSession('pg-down');
      assert.equal(session.exit_code, 254);
      assert.match(session.end_reason, /failed connecting to remote host=127\.0\.0\.1/);
    });

    it('a stored password the database refuses: its own error reaches the client', async () => {
      await createPgConnection('pg-badpass', { user: server.roles.scram.user, password: 'wrong-stored-password' });
      const result = await psql('pg-badpass', 'select 1');
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /password authentication failed for user "gatehouse_scram"/);
      const session = await endedSession('pg-badpass');
      assert.equal(session.exit_code, 254);
      assert.match(session.end_reason, /database login failed/);
    });

    it('100 connections at once, each its own session', async () => {
      const before = (await cluster.api('GET', '/api/sessions?connection=pg-plain&limit=1')).body.total;
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, index) => {
          const db = client('pg-plain');
          await db.connect();
          const result = await db.query('select $1::int as n', [index]);
          await db.end();
          return result.rows[0].n as number;
        }),
      );
      assert.deepEqual(results, Array.from({ length: 100 }, (_, index) => index));
      await waitFor('100 sessions to end', async () => {
        const list = await cluster.api('GET', `/api/sessions?connection=pg-plain&limit=200`);
        const ended = list.body.data.filter((session: { status: string; exit_code: number }) => session.status === 'done' && session.exit_code === 0);
        return list.body.total - before >= 100 && ended.length >= 100 ? true : undefined;
      });
    });

    it('guard rails: a blocked query gets an ErrorResponse with the rule, in simple and extended protocol, and the connection goes on', async () => {
      const connection = (await cluster.api('GET', '/api/connections/pg-md5')).body;
      const rule = await cluster.api('POST', '/api/guardrails', {
        name: `no-drop-${store}`,
        connection_ids: [connection.id],
        input: { rules: [{ type: 'deny_words_list', words: ['pg_sleep'], name: 'no sleeping' }] },
      });
      assert.equal(rule.status, 201, rule.text);
      try {
        const db = client('pg-md5');
        await db.connect();
        await assert.rejects(db.query('select pg_sleep(0)'), (error: { code?: string; message: string }) => {
          assert.equal(error.code, '42501');
          assert.match(error.message, /^Blocked by the following Guardrails rule: .*pg_sleep/);
          return true;
        });
        assert.equal((await db.query('select 1 as n')).rows[0].n, 1);
        await assert.rejects(db.query('select pg_sleep($1)', [0]), /Blocked by the following Guardrails rule/);
        assert.equal((await db.query('select $1::int as n', [2])).rows[0].n, 2);
        // Inside a transaction a blocked query fails it, as any failed statement does.
        await db.query('begin');
        await assert.rejects(db.query('select pg_sleep(0)'), /Blocked/);
        await assert.rejects(db.query('select 1'), (error: { code?: string }) => error.code === '25P02');
        await db.query('rollback');
        assert.equal((await db.query('select 3 as n')).rows[0].n, 3);
        await db.end();
        const session = await endedSession('pg-md5');
        assert.equal(session.exit_code, 0);
        assert.equal(session.guardrails_info.length, 3);
        assert.equal(session.guardrails_info[0].direction, 'input');
      } finally {
        await cluster.api('DELETE', `/api/guardrails/${rule.body.id}`);
      }
    });

    it('masking: row values are masked per column before the client sees them', async () => {
      const connection = (await cluster.api('GET', '/api/connections/pg-plain')).body;
      const rule = await cluster.api('POST', '/api/datamasking-rules', {
        name: `pii-${store}`,
        connection_ids: [connection.id],
        supported_entity_types: [{ name: 'PII', entity_types: ['EMAIL_ADDRESS', 'DATE_OF_BIRTH'] }],
      });
      assert.equal(rule.status, 201, rule.text);
      try {
        const db = client('pg-plain');
        await db.connect();
        const result = await db.query("select 'alice@example.com' as contact, '1990-01-02' as dob, '1990-01-02' as created, 42 as n");
        await db.end();
        assert.deepEqual(result.rows[0], { contact: '[EMAIL_ADDRESS]', dob: '[DATE_OF_BIRTH]', created: '1990-01-02', n: 42 });
        const copied = await psql('pg-plain', "copy (select 'bob@example.org' as email) to stdout");
        assert.equal(copied.stdout, '[EMAIL_ADDRESS]\n');
        const session = await endedSession('pg-plain');
        assert.deepEqual(session.metrics.data_masking.info_types, { EMAIL_ADDRESS: 1 });
      } finally {
        await cluster.api('DELETE', `/api/datamasking-rules/${rule.body.id}`);
      }
    });

    it('kill from the API ends a native session; the client sees why', async () => {
      const db = client('pg-scram');
      db.on('error', () => {});
      await db.connect();
      const live = await waitFor('the live session', async () => {
        const list = await cluster.api('GET', '/api/sessions?connection=pg-scram&limit=1');
        return list.body.data[0]?.status === 'open' ? list.body.data[0] : undefined;
      });
      assert.equal((await cluster.api('POST', `/api/sessions/${live.id}/kill`)).status, 204);
      await assert.rejects(db.query('select 1'));
      const session = await endedSession('pg-scram');
      assert.equal(session.id, live.id);
      assert.equal(session.end_reason, 'session killed by the user');
    });

    it('the agent killed mid-query: the client gets an error and the session is closed', async () => {
      const db = client('pg-scram');
      db.on('error', () => {});
      await db.connect();
      const sleeping = db.query('select pg_sleep(60)');
      sleeping.catch(() => {}); // it fails while the test is still waiting on something else; asserted below
      await waitFor('pg_sleep to run', async () =>
        (await server.superuser("select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'")).trim() === '1' ? true : undefined,
      );
      await cluster.stopAgent('SIGKILL');
      await assert.rejects(sleeping);
      const session = await endedSession('pg-scram');
      assert.equal(session.exit_code, 254);
      assert.equal(session.end_reason, 'agent disconnected during the session');
      await cluster.startAgent();
    });

    it('gatehouse connect: a local port tunnelled through the HTTP API, as the token user', async () => {
      const port = await freePort();
      const cli = spawnGatehouse(['connect', 'pg-scram', '--port', String(port)], { GATEHOUSE_API_URL: cluster.url, GATEHOUSE_TOKEN: cluster.adminKey });
      try {
        await waitFor('the local listener', async () => (cli.output().includes('ready') ? true : undefined));
        const result = await run('psql', ['-X', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', 'anyone', '-d', 'whatever', '-c', 'select current_user'], {
          PGPASSWORD: 'ignored',
        });
        assert.equal(result.code, 0, result.stderr + cli.output());
        assert.equal(result.stdout.trim(), 'gatehouse_scram');
        assert.equal((await endedSession('pg-scram')).exit_code, 0);
      } finally {
        cli.child.kill('SIGTERM');
        await cli.exited;
      }
      const refused = spawnGatehouse(['connect', 'no-such-db', '--port', String(port)], { GATEHOUSE_API_URL: cluster.url, GATEHOUSE_TOKEN: cluster.adminKey });
      assert.equal(await refused.exited, 1);
      assert.match(refused.output(), /connection no-such-db: .*404/);
    });

    it('a connection with reviewers is refused until time-bound access is approved; a user without access is refused', async () => {
      await createPgConnection('pg-reviewed', server.roles.scram);
      assert.equal((await cluster.api('PUT', '/api/connections/pg-reviewed', { ...(await cluster.api('GET', '/api/connections/pg-reviewed')).body, reviewers: ['sre'] })).status, 200);
      const reviewed = await psql('pg-reviewed', 'select 1');
      assert.match(reviewed.stderr, /connection "pg-reviewed" requires a review/);

      // Approved time-bound access lets its owner connect.
      const owner = (await cluster.api('POST', '/api/api-keys', { name: `owner-${store}`, groups: ['dev'] })).body.key as string;
      const reviewer = (await cluster.api('POST', '/api/api-keys', { name: `sre-${store}`, groups: ['sre'] })).body.key as string;
      const asked = await cluster.api('POST', '/api/sessions', { connection: 'pg-reviewed', access_duration_sec: 600 }, { authorization: `Bearer ${owner}` });
      assert.equal(asked.body.has_review, true, asked.text);
      assert.match((await psql('pg-reviewed', 'select 1', owner)).stderr, /requires a review/);
      const approved = await cluster.api('PUT', `/api/reviews/${asked.body.session_id}`, { status: 'APPROVED' }, { authorization: `Bearer ${reviewer}` });
      assert.equal(approved.body.status, 'APPROVED', approved.text);
      const granted = await psql('pg-reviewed', 'select current_user', owner);
      assert.equal(granted.code, 0, granted.stderr);
      assert.equal(granted.stdout.trim(), 'gatehouse_scram');

      const key = await cluster.api('POST', '/api/api-keys', { name: `dev-${store}`, groups: ['dev'] });
      assert.equal(key.status, 201, key.text);
      const plugin = await cluster.api('POST', '/api/plugins', { name: 'access_control', connections: [{ name: 'pg-scram', config: ['dba'] }] });
      assert.equal(plugin.status, 201, plugin.text);
      const denied = await psql('pg-scram', 'select 1', key.body.key);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /connection "pg-scram" not found/);
    });
  });
}

describe('native postgres access over TLS', () => {
  let server: PasswordPostgres;
  let cluster: Cluster;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-pg-tls-'));
    const made = await run(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      {},
    );
    assert.equal(made.code, 0, made.stderr);
    server = await startPasswordPostgres();
    cluster = await startCluster('pglite', { GATEHOUSE_PG_TLS_CERT: path.join(dir, 'cert.pem'), GATEHOUSE_PG_TLS_KEY: path.join(dir, 'key.pem') });
    await cluster.createConnection('pg-tls', {
      type: 'database',
      subtype: 'postgres',
      command: [],
      secret: Object.fromEntries(
        Object.entries({ HOST: '127.0.0.1', PORT: String(server.port), USER: server.roles.scram.user, PASS: server.roles.scram.password, DB: server.database }).map(
          ([key, value]) => [`envvar:${key}`, b64(value)],
        ),
      ),
    });
  });

  after(async () => {
    await cluster?.stop();
    await server?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  const psqlWith = (sslmode: string) =>
    run('psql', ['-X', '-At', '-c', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'], {
      PGHOST: '127.0.0.1',
      PGPORT: String(cluster.pgPort),
      PGDATABASE: 'pg-tls',
      PGSSLMODE: sslmode,
      PGPASSWORD: cluster.adminKey,
    });

  it('serves TLS when a certificate is configured, and refuses clients that do not use it', async () => {
    const secure = await psqlWith('require');
    assert.equal(secure.code, 0, secure.stderr);
    // The client's side is TLS; the agent's own connection to this server is not (it has none).
    assert.equal(secure.stdout.trim(), 'f');
    const plain = await psqlWith('disable');
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /this server accepts only TLS connections/);
  });
});
