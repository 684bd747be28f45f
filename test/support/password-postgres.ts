import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './cluster.js';

/**
 * A private PostgreSQL cluster with password authentication, started from the machine's own
 * binaries. The machine's shared server trusts every local connection, which cannot test a
 * login with stored credentials. Unix sockets live in the cluster's temp dir; TCP is
 * 127.0.0.1 only.
 */

export interface Role {
  user: string;
  password: string;
}

export interface PasswordPostgres {
  host: '127.0.0.1';
  port: number;
  database: 'gatehouse_app';
  /** Stored as SCRAM, stored as MD5 (pg_hba method md5 uses whichever is stored), and a role under pg_hba method `password` (cleartext). */
  roles: { scram: Role; md5: Role; plain: Role };
  /** Runs `sql` (several statements allowed) with psql as postgres over the unix socket; returns stdout (unaligned, tuples only). */
  superuser(sql: string): Promise<string>;
  /** Immediate shutdown: sessions see their connection drop. The cluster can be started again. */
  stop(): Promise<void>;
  /** Starts a stopped cluster again on the same port. */
  start(): Promise<void>;
  /** Stops the cluster and removes its directory; the object is unusable afterwards. */
  destroy(): Promise<void>;
}

const PG_ROOT = '/usr/lib/postgresql';
const DATABASE = 'gatehouse_app';

/** The bin directory of the highest PostgreSQL major installed. */
async function binDir(): Promise<string> {
  const majors = (await readdir(PG_ROOT).catch(() => [])).filter((name) => /^\d+$/.test(name)).map(Number);
  if (majors.length === 0) throw new Error(`no PostgreSQL installed under ${PG_ROOT}`);
  return path.join(PG_ROOT, String(Math.max(...majors)), 'bin');
}

function run(command: string, args: string[], options: { cwd: string; input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { cwd: options.cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(command)} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout);
    });
    // A tool that never reads stdin may exit before the input is written: EPIPE is not a failure.
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? '');
  });
}

export async function startPasswordPostgres(): Promise<PasswordPostgres> {
  const bin = await binDir();
  // PostgreSQL refuses to run as root; the tests do run as root in CI containers.
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-pg-'));
  const dataDir = path.join(dir, 'data');
  /** [command, ...args] running a PostgreSQL tool as a user PostgreSQL accepts. */
  const asPostgresArgv = (tool: string, args: string[]) => (asRoot ? ['runuser', '-u', 'postgres', '--'] : []).concat(path.join(bin, tool), args);
  const asPostgres = (tool: string, args: string[]) => {
    const [command, ...rest] = asPostgresArgv(tool, args);
    return run(command!, rest, { cwd: dir });
  };
  if (asRoot) {
    const uid = Number(await run('id', ['-u', 'postgres'], { cwd: dir }));
    const gid = Number(await run('id', ['-g', 'postgres'], { cwd: dir }));
    await chown(dir, uid, gid);
  }

  const port = await freePort();
  let running = false;
  let destroyed = false;
  // A crashed or interrupted test run must not leave a postmaster behind.
  const onExit = () => {
    if (running) {
      const [command, ...rest] = asPostgresArgv('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate']);
      spawnSync(command!, rest);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const start = async () => {
    try {
      await asPostgres('pg_ctl', ['start', '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-s']);
    } catch (error) {
      const log = await readFile(path.join(dir, 'server.log'), 'utf8').catch(() => '');
      throw new Error(`${(error as Error).message}\n${log.slice(-2000)}`);
    }
    running = true;
    // pg_ctl -w waits for the postmaster; also wait until TCP answers, which is what the tests use.
    for (let attempt = 0; ; attempt++) {
      try {
        await run(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { cwd: dir });
        return;
      } catch (error) {
        if (attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const stop = async () => {
    if (!running) return;
    await asPostgres('pg_ctl', ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-s']);
    running = false;
  };
  const superuser = (sql: string) =>
    run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres'], { cwd: dir, input: sql });

  try {
    await asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust', '--no-sync', '--no-instructions']);
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 300',
        'shared_buffers = 16MB',
        '',
      ].join('\n'),
    );
    // Rewritten in place so the file keeps the postgres owner initdb gave it.
    await writeFile(
      path.join(dataDir, 'pg_hba.conf'),
      [
        'local all all trust',
        'host all gatehouse_plain 127.0.0.1/32 password',
        // md5 answers with SCRAM for SCRAM-stored passwords and with MD5 for md5-stored ones.
        'host all all 127.0.0.1/32 md5',
        '',
      ].join('\n'),
    );
    await start();

    const password = () => randomBytes(16).toString('hex');
    const roles = {
      scram: { user: 'gatehouse_scram', password: password() },
      md5: { user: 'gatehouse_md5', password: password() },
      plain: { user: 'gatehouse_plain', password: password() },
    };
    await superuser(`
      SET password_encryption = 'scram-sha-256';
      CREATE ROLE ${roles.scram.user} LOGIN PASSWORD '${roles.scram.password}';
      CREATE ROLE ${roles.plain.user} LOGIN PASSWORD '${roles.plain.password}';
      SET password_encryption = 'md5';
      CREATE ROLE ${roles.md5.user} LOGIN PASSWORD '${roles.md5.password}';
      CREATE DATABASE ${DATABASE} OWNER ${roles.scram.user};
      GRANT ALL ON DATABASE ${DATABASE} TO ${roles.md5.user}, ${roles.plain.user};
      \\connect ${DATABASE}
      GRANT ALL ON SCHEMA public TO ${roles.md5.user}, ${roles.plain.user};
    `);

    return {
      host: '127.0.0.1',
      port,
      database: DATABASE,
      roles,
      superuser,
      stop,
      start: async () => {
        if (destroyed) throw new Error('the cluster was destroyed');
        if (!running) await start();
      },
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        await stop();
        process.removeListener('exit', onExit);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop().catch(() => {});
    process.removeListener('exit', onExit);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
