import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { PgUpstream, type PgUpstreamOptions } from '../src/agent/pg-upstream.js';
import { PgMessageReader, decodeBackendMessage, encodeQuery, encodeTerminate, type BackendMessage, type PgNoticeFields } from '../src/wire/pg/index.js';
import { freePort } from './support/cluster.js';
import { startPasswordPostgres, type PasswordPostgres, type Role } from './support/password-postgres.js';

/**
 * The agent's connection to a real PostgreSQL server, against a private cluster with password
 * authentication. TLS paths go through a small TLS-terminating proxy in front of it, since the
 * cluster itself has no certificate (which is what the sslmode=require refusal test needs).
 */

/** A broken feature must fail its test, not hang the run. */
const TIMEOUT_MS = 20_000;

let cluster: PasswordPostgres;
let certificate: { key: string; cert: string };

before(async () => {
  cluster = await startPasswordPostgres();
  certificate = await selfSignedCertificate();
});
after(async () => {
  await cluster?.destroy();
});

interface Received {
  readonly type: string;
  readonly message: BackendMessage;
}

interface QueryResult {
  rows: (string | null)[][];
  tag?: string;
  error?: PgNoticeFields;
}

/** A psql stand-in: decodes what PgUpstream forwards and waits for messages. */
class Client {
  readonly messages: Received[] = [];
  readonly bytes: Buffer[] = [];
  readonly upstream: PgUpstream;
  readonly closed: Promise<{ error?: string }>;
  closeResult: { error?: string } | undefined;
  closeCount = 0;
  /** What onData answers; tests of back pressure replace it. */
  onData: (chunk: Buffer) => boolean = () => true;
  private cursor = 0;
  private readonly reader = new PgMessageReader({ from: 'server' });
  private waiters: (() => void)[] = [];

  constructor(options: Partial<PgUpstreamOptions> & Role) {
    let resolveClosed!: (result: { error?: string }) => void;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.upstream = new PgUpstream(
      { host: cluster.host, port: cluster.port, database: cluster.database, parameters: {}, ...options },
      {
        onData: (chunk) => {
          this.bytes.push(Buffer.from(chunk));
          this.reader.push(chunk);
          for (const frame of this.reader.drain()) {
            if (frame.kind === 'typed') this.messages.push({ type: frame.type, message: decodeBackendMessage(frame) });
          }
          this.notify();
          return this.onData(chunk);
        },
        onClose: (result) => {
          this.closeCount++;
          this.closeResult = result;
          resolveClosed(result);
          this.notify();
        },
      },
    );
  }

  static async login(options: Partial<PgUpstreamOptions> & Role): Promise<Client> {
    const client = new Client(options);
    client.upstream.start();
    await client.next((received) => received.type === 'Z');
    return client;
  }

  /** The next message after the ones already returned that matches; rejects when the upstream closes first. */
  async next(predicate: (received: Received) => boolean): Promise<Received> {
    for (;;) {
      while (this.cursor < this.messages.length) {
        const received = this.messages[this.cursor++]!;
        if (predicate(received)) return received;
      }
      if (this.closeResult) throw new Error(`upstream closed: ${JSON.stringify(this.closeResult)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async query(sql: string): Promise<QueryResult> {
    this.upstream.write(encodeQuery(sql));
    return this.result();
  }

  /** Everything up to the next ReadyForQuery. */
  async result(): Promise<QueryResult> {
    const result: QueryResult = { rows: [] };
    for (;;) {
      const { message } = await this.next(() => true);
      if (message.name === 'DataRow') result.rows.push(message.values.map((value) => value?.toString('utf8') ?? null));
      else if (message.name === 'CommandComplete') result.tag = message.tag;
      else if (message.name === 'ErrorResponse') result.error = message.fields;
      else if (message.name === 'ReadyForQuery') return result;
    }
  }

  /** What psql does on \q: Terminate, then the gateway ends the upstream. */
  async quit(): Promise<void> {
    this.upstream.write(encodeTerminate());
    this.upstream.end();
    assert.deepEqual(await this.closed, {});
  }

  forwarded(): Buffer {
    return Buffer.concat(this.bytes);
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** How the server stores the role's password, which decides the method pg_hba's md5 asks for. */
async function storedPasswordKind(role: Role): Promise<string> {
  const sql = `select case when rolpassword like 'SCRAM-SHA-256$%' then 'scram' when rolpassword like 'md5%' then 'md5' end from pg_authid where rolname = '${role.user}'`;
  return (await cluster.superuser(sql)).trim();
}

async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gatehouse-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ]);
    return { key: await readFile(path.join(dir, 'key.pem'), 'utf8'), cert: await readFile(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Answers the SSLRequest itself ('S' and TLS with a self-signed certificate, or 'N'), then relays
 * the rest to the private cluster. `received` is what the proxy read from the agent after TLS.
 */
async function startProxy(listenHost: string, offerTls: boolean): Promise<{ port: number; received: Buffer[]; close(): Promise<void> }> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', (request) => {
      assert.equal(request.length, 8, 'the SSLRequest comes alone: the agent waits for the answer');
      socket.write(offerTls ? 'S' : 'N');
      const agent = offerTls ? new tls.TLSSocket(socket, { isServer: true, secureContext: tls.createSecureContext(certificate) }) : socket;
      const database = net.connect({ host: cluster.host, port: cluster.port });
      sockets.add(database);
      agent.on('data', (chunk: Buffer) => {
        received.push(Buffer.from(chunk));
        database.write(chunk);
      });
      database.pipe(agent);
      for (const end of [agent, database]) {
        end.on('error', () => {});
        end.on('close', () => (agent.destroy(), database.destroy()));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function nonLoopbackAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
}

test('logs in with SCRAM-SHA-256 (sslmode prefer falls back to clear text), forwards the startup messages and relays a query', { timeout: TIMEOUT_MS }, async () => {
  assert.equal(await storedPasswordKind(cluster.roles.scram), 'scram');
  const client = await Client.login({ ...cluster.roles.scram, parameters: { application_name: 'gatehouse-test', DateStyle: 'ISO, DMY' } });
  const names = client.messages.map((received) => received.message.name);
  assert.equal(names[0], 'AuthenticationOk', 'forwarding starts with AuthenticationOk');
  assert.ok(names.includes('BackendKeyData'));
  assert.equal(names.at(-1), 'ReadyForQuery');
  assert.ok(!names.slice(1).some((name) => name.startsWith('Authentication')), 'the SASL exchange stays between agent and server');
  assert.ok(
    client.messages.some(({ message }) => message.name === 'ParameterStatus' && message.parameter === 'application_name' && message.value === 'gatehouse-test'),
  );

  const result = await client.query(`select current_user, current_database(), current_setting('DateStyle')`);
  assert.deepEqual(result.rows, [['gatehouse_scram', 'gatehouse_app', 'ISO, DMY']]);
  assert.equal(result.tag, 'SELECT 1');
  assert.ok(!client.forwarded().includes(cluster.roles.scram.password));
  await client.quit();
  assert.equal(client.closeCount, 1);
});

test('logs in with MD5 (sslmode disable)', { timeout: TIMEOUT_MS }, async () => {
  assert.equal(await storedPasswordKind(cluster.roles.md5), 'md5');
  const client = await Client.login({ ...cluster.roles.md5, sslmode: 'disable' });
  assert.deepEqual((await client.query('select current_user')).rows, [['gatehouse_md5']]);
  await client.quit();
});

test('answers cleartext password authentication when the server is on a loopback address', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.plain });
  assert.deepEqual((await client.query('select current_user')).rows, [['gatehouse_plain']]);
  await client.quit();
});

test('refuses cleartext password authentication to a non-loopback address without TLS, and never sends the password', { timeout: TIMEOUT_MS }, async (t) => {
  const address = nonLoopbackAddress();
  if (!address) return t.skip('no non-loopback IPv4 address on this machine');
  const proxy = await startProxy(address, false);
  try {
    const client = new Client({ ...cluster.roles.plain, host: address, port: proxy.port });
    client.upstream.start();
    const { error } = await client.closed;
    assert.match(error ?? '', /^database login failed: .*cleartext/);
    assert.ok(!Buffer.concat(proxy.received).includes(cluster.roles.plain.password), 'the password went out in clear text');
    assert.equal(client.messages.length, 0);
  } finally {
    await proxy.close();
  }
});

test('over TLS (sslmode require, self-signed certificate) logs in and answers cleartext authentication even to a non-loopback address', { timeout: TIMEOUT_MS }, async () => {
  const address = nonLoopbackAddress() ?? '127.0.0.1';
  const proxy = await startProxy(address, true);
  try {
    for (const role of [cluster.roles.plain, cluster.roles.scram]) {
      const client = await Client.login({ ...role, host: address, port: proxy.port, sslmode: 'require' });
      assert.deepEqual((await client.query(`select current_user`)).rows, [[role.user]]);
      await client.quit();
    }
  } finally {
    await proxy.close();
  }
});

test('sslmode verify-full rejects a certificate it cannot verify', { timeout: TIMEOUT_MS }, async () => {
  const proxy = await startProxy('127.0.0.1', true);
  try {
    const client = new Client({ ...cluster.roles.scram, port: proxy.port, sslmode: 'verify-full' });
    client.upstream.start();
    const { error } = await client.closed;
    assert.match(error ?? '', /^database login failed: .*certificate/);
    assert.equal(proxy.received.length, 0, 'nothing was sent over an unverified connection');
  } finally {
    await proxy.close();
  }
});

test('sslmode require and verify-full fail clearly against a server without TLS', { timeout: TIMEOUT_MS }, async () => {
  for (const sslmode of ['require', 'verify-full']) {
    const client = new Client({ ...cluster.roles.scram, sslmode });
    client.upstream.start();
    const { error } = await client.closed;
    assert.equal(error, `database login failed: the database server does not support TLS, which sslmode=${sslmode} requires`);
    assert.equal(client.bytes.length, 0);
  }
});

test('a wrong stored password forwards the server ErrorResponse and fails without revealing any password', { timeout: TIMEOUT_MS }, async () => {
  for (const role of [cluster.roles.scram, cluster.roles.md5, cluster.roles.plain]) {
    const wrong = `wrong-${role.password}`;
    const client = new Client({ user: role.user, password: wrong });
    client.upstream.start();
    const { error } = await client.closed;
    assert.equal(error, `database login failed: password authentication failed for user "${role.user}"`);
    assert.deepEqual(
      client.messages.map(({ message }) => (message.name === 'ErrorResponse' ? message.fields.code : message.name)),
      ['28P01'],
      'exactly the ErrorResponse is forwarded',
    );
    assert.ok(!client.forwarded().includes(wrong) && !client.forwarded().includes(role.password));
    assert.equal(client.closeCount, 1);
  }
});

test('an unknown database forwards the server ErrorResponse', { timeout: TIMEOUT_MS }, async () => {
  const client = new Client({ ...cluster.roles.scram, database: 'no_such_database' });
  client.upstream.start();
  const { error } = await client.closed;
  assert.equal(error, 'database login failed: database "no_such_database" does not exist');
  const last = client.messages.at(-1)?.message;
  assert.equal(last?.name === 'ErrorResponse' ? last.fields.code : last?.name, '3D000');
});

test('an unreachable server fails with the reachability message; cancel before login is a no-op', { timeout: TIMEOUT_MS }, async () => {
  const port = await freePort();
  const client = new Client({ ...cluster.roles.scram, port });
  await client.upstream.cancel(); // would reject: nothing listens on the port
  client.upstream.start();
  const { error } = await client.closed;
  assert.match(error ?? '', new RegExp(`^failed connecting to remote host=127\\.0\\.0\\.1, port=${port}, reason=.*ECONNREFUSED`));
});

test('an unknown sslmode is refused', { timeout: TIMEOUT_MS }, async () => {
  const client = new Client({ ...cluster.roles.scram, sslmode: 'allow-maybe' });
  client.upstream.start();
  assert.match((await client.closed).error ?? '', /unsupported sslmode "allow-maybe"/);
});

test('bytes written before login completes are sent after it', { timeout: TIMEOUT_MS }, async () => {
  const client = new Client({ ...cluster.roles.md5 });
  client.upstream.start();
  client.upstream.write(encodeQuery('select 41 + 1'));
  await client.next((received) => received.type === 'Z');
  assert.deepEqual((await client.result()).rows, [['42']]);
  await client.quit();
});

test('cancel() interrupts a running query with SQLSTATE 57014', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.scram });
  client.upstream.write(encodeQuery('select pg_sleep(30)'));
  while ((await cluster.superuser(`select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'`)).trim() !== '1') {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await client.upstream.cancel();
  const result = await client.result();
  assert.equal(result.error?.code, '57014');
  assert.deepEqual((await client.query('select 1')).rows, [['1']], 'the session goes on after the cancel');
  await client.quit();
});

test('the server closing after the client Terminate is a clean end', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.scram });
  client.upstream.write(encodeTerminate());
  assert.deepEqual(await client.closed, {});
});

test('onData returning false pauses the upstream until resumeReading()', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.scram });
  let paused = false;
  let deliveredWhilePaused = 0;
  client.onData = () => {
    if (paused) deliveredWhilePaused++;
    paused = true;
    setTimeout(() => {
      paused = false;
      client.upstream.resumeReading();
    }, 5);
    return false;
  };
  const result = await client.query(`select repeat('x', 1000) from generate_series(1, 5000)`);
  assert.equal(result.tag, 'SELECT 5000');
  assert.equal(result.rows.length, 5000);
  assert.ok(client.bytes.length > 10, 'the result arrived in several chunks');
  assert.equal(deliveredWhilePaused, 0);
  client.onData = () => true;
  await client.quit();
});

test('the server ending the session on its own (pg_terminate_backend) is an error, after its FATAL ErrorResponse', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.md5, parameters: { application_name: 'gatehouse-terminated' } });
  await cluster.superuser(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gatehouse-terminated'`);
  assert.deepEqual(await client.closed, { error: 'the database closed the connection' });
  const last = client.messages.at(-1)?.message;
  assert.equal(last?.name === 'ErrorResponse' ? last.fields.code : last?.name, '57P01');
});

test('the server going away mid-session ends the upstream with an error; the restarted server accepts logins', { timeout: TIMEOUT_MS }, async () => {
  const client = await Client.login({ ...cluster.roles.scram });
  await cluster.stop();
  try {
    const { error } = await client.closed;
    assert.match(error ?? '', /^(the database closed the connection|connection to the database failed: .+)$/);
  } finally {
    await cluster.start();
  }
  const again = await Client.login({ ...cluster.roles.scram });
  assert.deepEqual((await again.query('select current_user')).rows, [['gatehouse_scram']]);
  await again.quit();
  assert.equal(client.closeCount, 1);
});
