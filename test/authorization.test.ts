import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from './support/cluster.js';

/**
 * The authorization matrix, generated from the route table: every operation the gateway serves
 * (read from its OpenAPI document, where each carries its route's role) is called as each kind
 * of caller, and the answer must be what the role allows. A route without a role does not
 * start at all (the gateway refuses it), so a new route cannot slip through unmarked.
 */

type Role = 'public' | 'admin' | 'adminAndAuditor' | 'readOnly' | 'standard';
type Caller = 'anonymous' | 'standard' | 'auditor' | 'admin' | 'revoked key' | 'inactive user';

const ROLES: Role[] = ['public', 'admin', 'adminAndAuditor', 'readOnly', 'standard'];
const ALLOWED: Record<Exclude<Caller, 'anonymous' | 'revoked key' | 'inactive user'>, Role[]> = {
  admin: ['public', 'admin', 'adminAndAuditor', 'readOnly', 'standard'],
  auditor: ['public', 'adminAndAuditor', 'readOnly'],
  standard: ['public', 'readOnly', 'standard'],
};

/** Path parameters get values that name nothing, so no call changes anything that exists. */
function concretePath(path: string): string {
  return path.replace(/\{session_id\}|\{id\}/g, '00000000-0000-4000-8000-000000000000').replace(/\{[^}]+\}/g, 'does-not-exist');
}

/** `pass`: the role lets the caller through (any answer but 401/403). Public routes check their own credentials, if any. */
function expectation(role: Role, caller: Caller): 'pass' | 'any' | 401 | 403 {
  if (role === 'public') return 'any';
  if (caller === 'anonymous' || caller === 'revoked key' || caller === 'inactive user') return 401;
  return ALLOWED[caller].includes(role) ? 'pass' : 403;
}

describe('authorization matrix (every route x every kind of caller)', () => {
  let cluster: Cluster;
  const keys: Partial<Record<Caller, string>> = {};
  let operations: { method: string; path: string; role: Role }[] = [];

  before(async () => {
    cluster = await startCluster('pglite');
    keys.admin = cluster.adminKey;
    for (const [caller, groups] of [['standard', ['developers']], ['auditor', ['auditor']], ['revoked key', ['admin']]] as const) {
      const created = await cluster.api('POST', '/api/api-keys', { name: `matrix-${caller}`, groups });
      assert.equal(created.status, 201, created.text);
      keys[caller] = created.body.key;
    }
    assert.equal((await cluster.api('DELETE', '/api/api-keys/matrix-revoked key')).status, 204);
    // A user who logged in, then was deactivated: the token they hold must stop working.
    const password = 'matrix-password-1';
    assert.equal((await cluster.api('POST', '/api/users', { name: 'Gone', email: 'gone@example.com', password, groups: ['admin'] })).status, 201);
    const login = await cluster.api('POST', '/api/localauth/login', { email: 'gone@example.com', password });
    assert.equal(login.status, 200, login.text);
    keys['inactive user'] = login.headers.get('token')!;
    assert.equal((await cluster.api('GET', '/api/userinfo', undefined, { authorization: `Bearer ${keys['inactive user']}` })).status, 200);
    assert.equal((await cluster.api('PUT', '/api/users/gone@example.com', { email: 'gone@example.com', status: 'inactive' })).status, 200);
    const document = await cluster.api('GET', '/api/openapi.json');
    for (const [path, item] of Object.entries<Record<string, { 'x-gatehouse-role'?: Role }>>(document.body.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        operations.push({ method: method.toUpperCase(), path: `/api${path}`, role: operation['x-gatehouse-role']! });
      }
    }
  });

  after(async () => {
    await cluster?.stop();
  });

  it('every route declares a known role', () => {
    assert.ok(operations.length >= 30, `found ${operations.length} operations`);
    for (const { method, path, role } of operations) assert.ok(ROLES.includes(role), `${method} ${path} has role ${String(role)}`);
  });

  for (const caller of ['anonymous', 'revoked key', 'inactive user', 'standard', 'auditor', 'admin'] as Caller[]) {
    it(`answers ${caller} as each route's role says`, async () => {
      const wrong: string[] = [];
      for (const { method, path, role } of operations) {
        const key = keys[caller];
        const response = await cluster.api(
          method,
          concretePath(path),
          method === 'GET' || method === 'DELETE' ? undefined : {},
          key ? { authorization: `Bearer ${key}` } : { authorization: '' },
        );
        const expected = expectation(role, caller);
        const ok =
          expected === 'any' || (expected === 'pass' ? response.status !== 401 && response.status !== 403 : response.status === expected);
        if (!ok) wrong.push(`${method} ${path} (${role}): ${response.status} ${response.text.slice(0, 120)}, expected ${expected}`);
        if (expected === 401 || expected === 403) assert.deepEqual(Object.keys(response.body ?? {}), ['message'], response.text);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('API keys: shown once, stored masked and hashed, names unique', async () => {
    const created = await cluster.api('POST', '/api/api-keys', { name: 'ci-bot', groups: ['ci'] });
    assert.equal(created.status, 201, created.text);
    const key: string = created.body.key;
    assert.match(key, /^hpk_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.masked_key, key.slice(0, 8) + '*'.repeat(key.length - 8));
    assert.equal(created.body.status, 'active');
    const listed = await cluster.api('GET', '/api/api-keys');
    assert.doesNotMatch(listed.text, new RegExp(key));
    assert.ok(listed.body.some((k: any) => k.name === 'ci-bot' && k.masked_key === created.body.masked_key));
    assert.equal((await cluster.api('POST', '/api/api-keys', { name: 'ci-bot' })).status, 409);
    const renamed = await cluster.api('PUT', `/api/api-keys/${created.body.id}`, { name: 'ci-robot', groups: ['ci', 'deploy'] });
    assert.equal(renamed.status, 200, renamed.text);
    assert.deepEqual([renamed.body.name, renamed.body.groups], ['ci-robot', ['ci', 'deploy']]);
    assert.equal((await cluster.api('PUT', '/api/api-keys/ci-robot', { name: 'matrix-standard' })).status, 409);
    const ran = await cluster.api('POST', '/api/sessions', { connection: 'bash', script: 'echo $GATEHOUSE_USER_EMAIL' }, { authorization: `Bearer ${key}` });
    assert.equal(ran.body.output, 'ci-robot\n');
    const session = await cluster.api('GET', `/api/sessions/${ran.body.session_id}`);
    assert.deepEqual([session.body.user_id, session.body.user, session.body.user_name], [created.body.id, 'ci-robot', 'ci-robot']);
    assert.equal((await cluster.api('POST', '/api/api-keys/ci-robot/reactivate')).status, 422);
    assert.equal((await cluster.api('GET', '/api/api-keys/nope')).status, 404);
  });

  it('a revoked key stops working at once, and works again when reactivated', async () => {
    const created = await cluster.api('POST', '/api/api-keys', { name: 'short-lived', groups: ['admin'] });
    const as = { authorization: `Bearer ${created.body.key}` };
    assert.equal((await cluster.api('GET', '/api/connections', undefined, as)).status, 200);
    assert.equal((await cluster.api('DELETE', '/api/api-keys/short-lived')).status, 204);
    assert.equal((await cluster.api('GET', '/api/connections', undefined, as)).status, 401);
    assert.equal((await cluster.api('POST', '/api/api-keys/short-lived/reactivate')).status, 200);
    assert.equal((await cluster.api('GET', '/api/connections', undefined, as)).status, 200);
  });
});
