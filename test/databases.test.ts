import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { b64, startCluster, STORES, type Cluster } from './support/cluster.js';
import { assertErrorBody } from './support/http-assertions.js';

/**
 * Exec on database connections end to end: real gateway and agent processes, the machine's real
 * PostgreSQL and MariaDB, through the default `psql` and `mysql` commands.
 */

const MYSQL_USER = `gh_${randomBytes(3).toString('hex')}`;
const MYSQL_PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
const PG_PASSWORD = `never-shown-${randomBytes(6).toString('hex')}`;

const mariadb = (sql: string) => execFileSync('mariadb', ['-h127.0.0.1', '-uroot', '-e', sql]);

for (const store of STORES) {
  describe(`database connections (${store})`, () => {
    let cluster: Cluster;

    before(async () => {
      mariadb(`CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}'; GRANT SELECT ON test.* TO '${MYSQL_USER}'@'%';`);
      cluster = await startCluster(store);
    });

    after(async () => {
      try {
        mariadb(`DROP USER IF EXISTS '${MYSQL_USER}'@'%'`);
      } finally {
        await cluster?.stop();
      }
    });

    const createDatabase = async (name: string, subtype: string, secrets: Record<string, string>) => {
      const secret = Object.fromEntries(Object.entries(secrets).map(([key, value]) => [`envvar:${key}`, b64(value)]));
      return cluster.createConnection(name, { type: 'database', subtype, command: [], secret });
    };

    it('runs SQL on PostgreSQL with the default command; the password only in PGPASSWORD', async () => {
      const created = await createDatabase('pg-main', 'postgres', { HOST: '127.0.0.1', USER: 'postgres', PASS: PG_PASSWORD, DB: 'test' });
      assert.deepEqual(created.command, ['psql', '-v', 'ON_ERROR_STOP=1', '-A', '-F\t', '-P', 'pager=off', '-h', '$HOST', '-U', '$USER', '--port=$PORT', '$DB']);
      const exec = await cluster.exec({ connection: 'pg-main', script: "select 1 as one, current_database() as db, 'x' as z" });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 0, exec.body.output);
      assert.equal(exec.body.output, 'one\tdb\tz\n1\ttest\tx\n(1 row)\n');

      // The client's own command line, read from inside it: no password there.
      const argv = await cluster.exec({ connection: 'pg-main', script: "\\! tr '\\0' ' ' < /proc/$PPID/cmdline; echo; printenv PGPASSWORD | wc -c" });
      assert.equal(argv.body.exit_code, 0, argv.body.output);
      assert.match(argv.body.output, /^\S*psql -v ON_ERROR_STOP=1 -A -F\t -P pager=off -h 127\.0\.0\.1 -U postgres --port=5432 test \n/);
      assert.equal(argv.body.output.split('\n')[1], String(PG_PASSWORD.length + 1));
      assert.ok(!argv.text.includes(PG_PASSWORD));

      const failing = await cluster.exec({ connection: 'pg-main', script: 'select 1/0;' });
      assert.equal(failing.body.exit_code, 3);
      assert.match(failing.body.output, /division by zero/);
    });

    it('runs SQL on MariaDB with the default command; a wrong password is refused without showing it', async () => {
      await createDatabase('maria', 'mysql', { HOST: '127.0.0.1', USER: MYSQL_USER, PASS: MYSQL_PASSWORD, DB: 'test' });
      const exec = await cluster.exec({ connection: 'maria', script: 'select 41 + 1 as answer, current_user() like concat(user(), "%") as me;' });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 0, exec.body.output);
      assert.equal(exec.body.output, 'answer\tme\n42\t0\n');

      await createDatabase('maria-wrong', 'mysql', { HOST: '127.0.0.1', USER: MYSQL_USER, PASS: 'not-the-password' });
      const refused = await cluster.exec({ connection: 'maria-wrong', script: 'select 1;' });
      assert.equal(refused.body.exit_code, 1);
      assert.match(refused.body.output, /Access denied for user/);
      assert.ok(!refused.text.includes('not-the-password') && !refused.text.includes(MYSQL_PASSWORD));
    });

    it('checks that the server is reachable first, naming host and port, never the password', async () => {
      await createDatabase('pg-down', 'postgres', { HOST: '127.0.0.1', PORT: '1', USER: 'postgres', PASS: PG_PASSWORD });
      const exec = await cluster.exec({ connection: 'pg-down', script: 'select 1' });
      assert.equal(exec.status, 200, exec.text);
      assert.equal(exec.body.exit_code, 254);
      assert.match(exec.body.output, /^failed connecting to remote host=127\.0\.0\.1, port=1, reason=connect ECONNREFUSED/);
      assert.ok(!exec.text.includes(PG_PASSWORD));
    });

    it('refuses a database connection without its required secrets, storing no session', async () => {
      await createDatabase('pg-incomplete', 'postgres', { HOST: '127.0.0.1', USER: 'postgres' });
      const before = (await cluster.api('GET', '/api/sessions?connection=pg-incomplete')).body.total;
      assertErrorBody(await cluster.exec({ connection: 'pg-incomplete', script: 'select 1' }), 422, 'missing required secrets for postgres connection [HOST, USER, PASS]');
      assert.equal((await cluster.api('GET', '/api/sessions?connection=pg-incomplete')).body.total, before);
      await createDatabase('pg-sslmode', 'postgres', { HOST: '127.0.0.1', USER: 'postgres', PASS: 'x', SSLMODE: 'sometimes' });
      assertErrorBody(
        await cluster.exec({ connection: 'pg-sslmode', script: 'select 1' }),
        422,
        'wrong option ("sometimes") for SSLMODE, accept only: [disable prefer require verify-full]',
      );
    });

    it('tests a connection: login works, or the reason it does not', async () => {
      assert.deepEqual((await cluster.api('GET', '/api/connections/maria/test')).body, { success: true });
      assert.deepEqual((await cluster.api('GET', '/api/connections/pg-main/test')).body, { success: true });
      assertErrorBody(await cluster.api('GET', '/api/connections/maria-wrong/test'), 400, /^connection test failed: .*Access denied for user/);
      assertErrorBody(await cluster.api('GET', '/api/connections/pg-down/test'), 400, /^connection test failed: failed connecting to remote host=127\.0\.0\.1, port=1/);
      assertErrorBody(await cluster.api('GET', '/api/connections/bash/test'), 400, 'connection test failed: only database connections (postgres, mysql) can be tested');
      assertErrorBody(await cluster.api('GET', '/api/connections/nope/test'), 404, 'connection not found');
    });
  });
}
