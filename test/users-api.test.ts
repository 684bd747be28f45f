import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, SignJWT, UnsecuredJWT } from 'jose';
import { createSealer } from '../src/gateway/secrets/sealer.js';
import { spawnGatehouse, startCluster, STORES, type ApiResponse, type Cluster } from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';

/**
 * Users, groups and local login end to end (real gateway and agent processes): registration of
 * the first admin, login and its rate limits, users and groups CRUD, login tokens (who they
 * name, when they stop working, which ones are refused), and that passwords never come back.
 */

const ADMIN = { email: 'Ada@Example.com', password: 'ada-first-admin-pw', name: 'Ada Lovelace' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every password the tests send; none may show up in an answer or in the gateway's output. */
const PASSWORDS: string[] = [ADMIN.password];
function password(label: string): string {
  const value = `pw-${label}-${PASSWORDS.length}-secret`;
  PASSWORDS.push(value);
  return value;
}

// Each login comes from its own loopback address unless a test picks one, so the per-address
// limit only applies where a test means it to.
let lastAddress = 0;
const nextAddress = () => `127.0.1.${++lastAddress}`;

for (const store of STORES) {
  describe(`users, groups and local login (${store})`, () => {
    let cluster: Cluster;
    /** Every answer's body and headers, searched for passwords at the end. */
    const transcript: string[] = [];
    let adminToken: string;
    let adminId: string;
    /** What the gateway printed before a restart (reading the PGlite store restarts it). */
    let earlierGatewayOutput = '';

    function record<T extends { text: string; headers: Headers | Record<string, unknown> }>(response: T): T {
      const headers = response.headers instanceof Headers ? [...response.headers] : Object.entries(response.headers);
      transcript.push(response.text, JSON.stringify(headers));
      return response;
    }

    /** The API as the admin API key. */
    async function api(method: string, route: string, body?: unknown): Promise<ApiResponse> {
      return record(await cluster.api(method, route, body));
    }

    /** The API with a login token. */
    async function withToken(token: string, method: string, route: string, body?: unknown): Promise<ApiResponse> {
      return record(await cluster.api(method, route, body, { authorization: `Bearer ${token}` }));
    }

    /** A JSON POST sent from a given loopback address (the gateway listens on 127.0.0.1). */
    function postFrom(localAddress: string, route: string, body: unknown) {
      const url = new URL(cluster.url + route);
      return new Promise<{ status: number; body: any; text: string; headers: Record<string, unknown> }>((resolve, reject) => {
        const outgoing = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve(record({ status: response.statusCode!, body: JSON.parse(text), text, headers: response.headers })));
          },
        );
        outgoing.on('error', reject);
        outgoing.end(JSON.stringify(body));
      });
    }

    const login = (email: string, pw: string, from = nextAddress()) => postFrom(from, '/api/localauth/login', { email, password: pw });

    async function tokenOf(email: string, pw: string): Promise<string> {
      const response = await login(email, pw);
      assert.equal(response.status, 200, response.text);
      return response.headers.token as string;
    }

    async function createUser(fields: Record<string, unknown>) {
      const created = await api('POST', '/api/users', fields);
      assert.equal(created.status, 201, created.text);
      return created.body;
    }

    before(async () => {
      cluster = await startCluster(store);
    });
    after(async () => {
      await cluster?.stop();
    });

    it('registers the first user as admin and answers a token that works as Bearer', async () => {
      const registered = record(await cluster.api('POST', '/api/localauth/register', ADMIN));
      assert.equal(registered.status, 201, registered.text);
      assert.deepEqual(registered.body, { message: 'User created successfully' });
      assert.equal(registered.headers.get('access-control-expose-headers'), 'Token');
      adminToken = registered.headers.get('token')!;
      assert.ok(adminToken);

      const info = await withToken(adminToken, 'GET', '/api/userinfo');
      assert.equal(info.status, 200, info.text);
      assert.match(info.body.id, UUID);
      assert.equal(info.body.email, ADMIN.email);
      assert.equal(info.body.name, ADMIN.name);
      assert.deepEqual(info.body.groups, ['admin']);
      assert.equal(info.body.role, 'admin');
      assert.equal(info.body.is_admin, true);
      assert.equal(info.body.status, 'active');
      adminId = info.body.id;

      const claims = decodeJwt(adminToken);
      assert.equal(claims.sub, adminId);
      assert.equal(claims.email, ADMIN.email);
      assert.equal(claims.iss, cluster.url);
      assert.equal(claims.exp! - claims.iat!, 12 * 60 * 60);
      assert.equal(typeof claims.auth_time, 'number');
    });

    it('refuses any further registration with 403', async () => {
      for (const body of [{ email: 'second@example.com', password: password('second') }, ADMIN]) {
        assertErrorBody(
          record(await cluster.api('POST', '/api/localauth/register', body)),
          403,
          'unable to register new users, please contact your administrator',
        );
      }
    });

    it('logs in with the right password, whatever the case of the email; a wrong password and an unknown email get the same 401', async () => {
      const ok = await login(ADMIN.email.toLowerCase(), ADMIN.password);
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { status: 'ok' });
      assert.equal(ok.headers['access-control-expose-headers'], 'Token');
      assert.equal((await withToken(ok.headers.token as string, 'GET', '/api/userinfo')).body.id, adminId);

      const wrongPassword = await login(ADMIN.email, password('wrong'));
      const unknownUser = await login('nobody@example.com', ADMIN.password);
      for (const failure of [wrongPassword, unknownUser]) {
        assertErrorBody(failure, 401, 'invalid credentials');
        assert.equal(failure.headers.token, undefined);
      }
      assert.equal(wrongPassword.text, unknownUser.text);
    });

    it('answers 400 for a login or registration without email or password, or for an oversized login', async () => {
      for (const route of ['/api/localauth/login', '/api/localauth/register']) {
        assertErrorBody(await postFrom(nextAddress(), route, { email: ADMIN.email }), 400);
        assertErrorBody(await postFrom(nextAddress(), route, { password: ADMIN.password }), 400);
      }
      assertErrorBody(await login(`${'x'.repeat(300)}@example.com`, ADMIN.password), 400);
      assertErrorBody(await login(ADMIN.email, 'x'.repeat(1025)), 400);
    });

    it('limits failed logins per account: after 5 failures, 429 with Retry-After, even for the right password', async () => {
      const pw = password('limited');
      await createUser({ email: 'limited@example.com', password: pw });
      for (let i = 0; i < 5; i++) assertErrorBody(await login('limited@example.com', password(`limited-wrong-${i}`)), 401, 'invalid credentials');
      const limited = await login('LIMITED@example.com', pw);
      assertErrorBody(limited, 429, 'too many login attempts, try again later');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 15 * 60, `Retry-After: ${limited.headers['retry-after']}`);
      assert.equal(limited.headers.token, undefined);
    });

    it('limits failed logins per client address, whichever accounts they were for', async () => {
      const pw = password('from-address');
      await createUser({ email: 'from-address@example.com', password: pw });
      const address = nextAddress();
      for (let i = 0; i < 5; i++) assertErrorBody(await login(`unknown-${i}@example.com`, password(`guess-${i}`), address), 401);
      assertErrorBody(await login('from-address@example.com', pw, address), 429, 'too many login attempts, try again later');
      assert.equal((await login('from-address@example.com', pw)).status, 200);
    });

    it("resets an account's failures when it logs in", async () => {
      const pw = password('reset');
      await createUser({ email: 'reset@example.com', password: pw });
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 4; i++) assertErrorBody(await login('reset@example.com', password(`reset-wrong-${round}-${i}`)), 401);
        assert.equal((await login('reset@example.com', pw)).status, 200);
      }
    });

    it('creates users: active under local login, password hashed and never returned, 409 and 422 cases', async () => {
      const pw = password('grace');
      const created = await createUser({
        email: 'grace@example.com',
        name: 'Grace Hopper',
        password: pw,
        status: 'invited',
        groups: ['dba', 'dba', 'sre'],
        slack_id: 'U053ELZHB53',
        picture: 'https://example.com/grace.png',
      });
      assert.match(created.id, UUID);
      assert.deepEqual(
        { ...created, id: undefined },
        {
          id: undefined,
          name: 'Grace Hopper',
          email: 'grace@example.com',
          status: 'active',
          verified: false,
          role: 'standard',
          slack_id: 'U053ELZHB53',
          picture: 'https://example.com/grace.png',
          groups: ['dba', 'sre'],
        },
      );
      const graceToken = await tokenOf('grace@example.com', pw);
      assert.equal((await withToken(graceToken, 'GET', '/api/userinfo')).body.role, 'standard');

      assertErrorBody(await api('POST', '/api/users', { email: 'GRACE@example.com' }), 409, 'user already exists with email GRACE@example.com');
      for (const email of ['not-an-email', 'a b@example.com', '<x@example.com>', '@example.com', 'x@']) {
        assertErrorBody(await api('POST', '/api/users', { email }), 422, 'invalid email');
      }
      assertErrorBody(await api('POST', '/api/users', { email: 'short@example.com', password: 'short' }), 422, 'password must be at least 8 characters');
      assertErrorBody(await api('POST', '/api/users', { email: 'status@example.com', status: 'bogus' }), 422, /^status: must be one of/);
      assertErrorBody(await api('POST', '/api/users', { name: 'no email' }), 400);

      const withoutPassword = await createUser({ email: 'nopassword@example.com' });
      assert.equal(withoutPassword.name, '');
      assertErrorBody(await login('nopassword@example.com', ''), 401, 'invalid credentials');
    });

    it('stores passwords as scrypt hashes', { skip: store !== 'postgres' && 'needs direct database access' }, async () => {
      const { rows } = await queryDatabase(cluster.postgresUri!, 'SELECT password_hash FROM users WHERE lower(email) = $1', ['grace@example.com']);
      const hash: string = rows[0].password_hash;
      assert.match(hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{88}$/);
      for (const pw of PASSWORDS) assert.ok(!hash.includes(pw));
    });

    it('gets, lists, updates and deletes users; admins cannot drop their admin group, deactivate or delete themselves', async () => {
      const created = await createUser({ email: 'linus@example.com', name: 'Linus', groups: ['dev'] });
      const byEmail = await api('GET', '/api/users/LINUS@example.com');
      assert.equal(byEmail.status, 200, byEmail.text);
      assert.deepEqual(byEmail.body, created);
      assert.deepEqual((await api('GET', `/api/users/${created.id}`)).body, created);
      assertErrorBody(await api('GET', '/api/users/nobody@example.com'), 404, 'not found');
      assertErrorBody(await api('GET', '/api/users/00000000-0000-4000-8000-000000000000'), 404, 'not found');

      const list = await api('GET', '/api/users');
      assert.equal(list.status, 200);
      const emails = list.body.map((u: any) => u.email);
      assert.ok(emails.includes('linus@example.com') && emails.includes(ADMIN.email));
      assert.equal(list.body.find((u: any) => u.email === ADMIN.email).role, 'admin');
      for (const user of list.body) assert.deepEqual(Object.keys(user).sort(), ['email', 'groups', 'id', 'name', 'picture', 'role', 'slack_id', 'status', 'verified']);

      const updated = await api('PUT', `/api/users/${created.id}`, { email: 'ignored@example.com', name: 'Linus T', groups: ['admin'], status: 'inactive' });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.email, 'linus@example.com');
      assert.equal(updated.body.name, 'Linus T');
      assert.equal(updated.body.role, 'admin');
      assert.equal(updated.body.status, 'inactive');
      assertErrorBody(await api('PUT', '/api/users/nobody@example.com', { email: 'nobody@example.com' }), 404);
      assertErrorBody(await api('PUT', `/api/users/${created.id}`, { email: 'linus@example.com', status: 'gone' }), 422, /^status/);

      const self = await withToken(adminToken, 'PUT', `/api/users/${adminId}`, { email: ADMIN.email, name: ADMIN.name, groups: ['sre'] });
      assert.equal(self.status, 200, self.text);
      assert.deepEqual(self.body.groups.sort(), ['admin', 'sre']);
      assertErrorBody(
        await withToken(adminToken, 'PUT', `/api/users/${adminId}`, { email: ADMIN.email, status: 'inactive' }),
        422,
        'cannot deactivate yourself',
      );
      assertErrorBody(await withToken(adminToken, 'DELETE', `/api/users/${adminId}`), 422, 'cannot delete yourself');
      assert.equal((await withToken(adminToken, 'GET', '/api/userinfo')).status, 200);

      assert.equal((await api('DELETE', `/api/users/${created.id}`)).status, 204);
      assertErrorBody(await api('DELETE', `/api/users/${created.id}`), 404, 'not found');
      assertErrorBody(await api('GET', `/api/users/${created.id}`), 404);
    });

    it('lets standard users and auditors read users but not change them; userinfo names their role', async () => {
      const pw = password('reader');
      await createUser({ email: 'reader@example.com', password: pw, groups: ['dev'] });
      const auditorPw = password('auditor');
      await createUser({ email: 'auditor@example.com', password: auditorPw, groups: ['auditor'] });
      for (const [email, pass, role] of [['reader@example.com', pw, 'standard'], ['auditor@example.com', auditorPw, 'auditor']] as const) {
        const token = await tokenOf(email, pass);
        const info = await withToken(token, 'GET', '/api/userinfo');
        assert.equal(info.body.role, role);
        assert.equal(info.body.is_admin, false);
        assert.equal((await withToken(token, 'GET', '/api/users')).status, 200);
        assert.equal((await withToken(token, 'GET', '/api/users/groups')).status, 200);
        assertErrorBody(await withToken(token, 'POST', '/api/users', { email: 'x@example.com' }), 403, 'access denied');
        assertErrorBody(await withToken(token, 'POST', '/api/users/groups', { name: 'mine' }), 403, 'access denied');
        assertErrorBody(await withToken(token, 'DELETE', '/api/users/reader@example.com'), 403, 'access denied');
      }
    });

    it('manages groups: lists declared and used ones, 409 for an existing group, deletes memberships, keeps admin', async () => {
      const member = await createUser({ email: 'member@example.com', groups: ['analysts', 'dev'] });
      const groups = async () => (await api('GET', '/api/users/groups')).body as string[];
      assert.ok((await groups()).includes('admin'));
      assert.ok((await groups()).includes('analysts'));

      const created = await api('POST', '/api/users/groups', { name: 'empty-group' });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body, { name: 'empty-group' });
      assert.ok((await groups()).includes('empty-group'));
      assertErrorBody(await api('POST', '/api/users/groups', { name: 'empty-group' }), 409, 'group empty-group already exists');
      assertErrorBody(await api('POST', '/api/users/groups', { name: 'analysts' }), 409, 'group analysts already exists');
      assertErrorBody(await api('POST', '/api/users/groups', { name: '' }), 400);

      assertErrorBody(await api('DELETE', '/api/users/groups/admin'), 422, 'cannot delete admin group admin');
      assert.equal((await api('DELETE', '/api/users/groups/analysts')).status, 204);
      assert.deepEqual((await api('GET', `/api/users/${member.id}`)).body.groups, ['dev']);
      assert.equal((await api('DELETE', '/api/users/groups/empty-group')).status, 204);
      const after = await groups();
      assert.ok(!after.includes('analysts') && !after.includes('empty-group'));
      assertErrorBody(await api('DELETE', '/api/users/groups/empty-group'), 404, 'group not found');
    });

    it("refuses a user's existing token at once when the user is deactivated or deleted", async () => {
      const pw = password('leaver');
      const user = await createUser({ email: 'leaver@example.com', password: pw });
      const token = await tokenOf('leaver@example.com', pw);
      assert.equal((await withToken(token, 'GET', '/api/userinfo')).status, 200);

      assert.equal((await api('PUT', `/api/users/${user.id}`, { email: user.email, status: 'inactive' })).status, 200);
      assertErrorBody(await withToken(token, 'GET', '/api/userinfo'), 401, 'access denied');
      assertErrorBody(await login('leaver@example.com', pw), 401, 'invalid credentials');

      assert.equal((await api('PUT', `/api/users/${user.id}`, { email: user.email, status: 'active' })).status, 200);
      assert.equal((await withToken(token, 'GET', '/api/userinfo')).status, 200);
      assert.equal((await api('DELETE', `/api/users/${user.id}`)).status, 204);
      assertErrorBody(await withToken(token, 'GET', '/api/userinfo'), 401, 'access denied');
    });

    it('refuses tokens signed by another key, tampered, unsigned, expired or issued for another gateway', async () => {
      earlierGatewayOutput += cluster.gateway.output();
      const signingKey = await readSigningKey(cluster);
      const claims = { email: ADMIN.email, auth_time: Math.floor(Date.now() / 1000) };
      const sign = (key: KeyObject, overrides: { iss?: string; exp?: number; sub?: string } = {}) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'EdDSA' })
          .setSubject(overrides.sub ?? adminId)
          .setIssuer(overrides.iss ?? cluster.url)
          .setIssuedAt()
          .setExpirationTime(overrides.exp ?? Math.floor(Date.now() / 1000) + 600)
          .sign(key);

      // The key read from the store signs tokens the gateway accepts: the refusals below are about the token.
      assert.equal((await withToken(await sign(signingKey), 'GET', '/api/userinfo')).body.id, adminId);

      const [header, , signature] = adminToken.split('.');
      const otherUser = (await api('GET', '/api/users/reader@example.com')).body.id;
      const tamperedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(adminToken), sub: otherUser })).toString('base64url');
      const refused: Record<string, string> = {
        'another key': await sign(generateKeyPairSync('ed25519').privateKey),
        tampered: `${header}.${tamperedPayload}.${signature}`,
        unsigned: new UnsecuredJWT(claims).setSubject(adminId).setIssuer(cluster.url).setExpirationTime('10m').encode(),
        expired: await sign(signingKey, { exp: Math.floor(Date.now() / 1000) - 60 }),
        'another issuer': await sign(signingKey, { iss: 'https://elsewhere.example.com' }),
        'an unknown user': await sign(signingKey, { sub: '00000000-0000-4000-8000-000000000000' }),
        'not a JWT': 'not-a-token',
      };
      for (const [what, token] of Object.entries(refused)) {
        const response = await withToken(token, 'GET', '/api/userinfo');
        assert.equal(response.status, 401, `${what}: ${response.text}`);
        assert.deepEqual(response.body, { message: 'access denied' }, what);
      }
    });

    it("records the login token's user (id, email, name) on the sessions it runs", async () => {
      const pw = password('runner');
      const user = await createUser({ email: 'runner@example.com', name: 'Runner Person', password: pw });
      const token = await tokenOf('runner@example.com', pw);
      const run = await withToken(token, 'POST', '/api/sessions', { connection: 'bash', script: 'echo "$GATEHOUSE_USER_EMAIL"' });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'runner@example.com\n');
      const session = await withToken(token, 'GET', `/api/sessions/${run.body.session_id}`);
      assert.equal(session.status, 200, session.text);
      assert.equal(session.body.user_id, user.id);
      assert.equal(session.body.user, 'runner@example.com');
      assert.equal(session.body.user_name, 'Runner Person');
    });

    it('never shows a password in an answer or in the gateway output, nor a token in the output', async () => {
      const output = earlierGatewayOutput + cluster.gateway.output();
      const answers = transcript.join('\n');
      for (const pw of PASSWORDS) {
        assert.ok(!output.includes(pw), `a password is in the gateway output`);
        assert.ok(!answers.includes(pw), `a password is in an answer`);
      }
      assert.ok(!output.includes(adminToken.split('.')[2]!), 'a login token is in the gateway output');
    });
  });
}

describe('AUTH_METHOD', () => {
  it('turns the local login routes off with AUTH_METHOD=oidc; users are created invited', async () => {
    // The provider is only reached at the first login, so it need not exist here.
    const cluster = await startCluster(STORES[0]!, {
      AUTH_METHOD: 'oidc',
      IDP_ISSUER: 'https://idp.invalid',
      IDP_CLIENT_ID: 'gatehouse',
      IDP_CLIENT_SECRET: 'unused',
    });
    try {
      for (const route of ['/api/localauth/register', '/api/localauth/login']) {
        assertErrorBody(await cluster.api('POST', route, ADMIN), 403, 'local authentication is disabled');
      }
      const created = await cluster.api('POST', '/api/users', { email: 'invited@example.com' });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.status, 'invited');
    } finally {
      await cluster.stop();
    }
  });

  it('refuses to start with an unknown AUTH_METHOD', async () => {
    const gateway = spawnGatehouse('gateway', { AUTH_METHOD: 'saml', GATEHOUSE_DATA_DIR: '/nonexistent/never-created' });
    assert.notEqual(await gateway.exited, 0);
    assert.match(gateway.output(), /AUTH_METHOD must be one of local, oidc \(got "saml"\)/);
  });
});

/**
 * The gateway's token signing key, as it is stored: sealed under the data dir's secret key.
 * PGlite admits one process, so for it the gateway is stopped while the store is read.
 */
async function readSigningKey(cluster: Cluster): Promise<KeyObject> {
  const query = 'SELECT private_key_sealed FROM token_signing_keys';
  let sealed: Buffer;
  if (cluster.postgresUri) {
    sealed = (await queryDatabase(cluster.postgresUri, query)).rows[0].private_key_sealed;
  } else {
    await cluster.stopGateway();
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create(path.join(cluster.dataDir, 'pgdata'));
    try {
      sealed = Buffer.from((await db.query<{ private_key_sealed: Uint8Array }>(query)).rows[0]!.private_key_sealed);
    } finally {
      await db.close();
    }
    await cluster.startGateway();
    await cluster.waitAgentStatus('CONNECTED');
  }
  const secretKey = Buffer.from((await readFile(path.join(cluster.dataDir, 'secret-key'), 'utf8')).trim(), 'hex');
  return createPrivateKey({ key: createSealer(secretKey).open(sealed), format: 'der', type: 'pkcs8' });
}
