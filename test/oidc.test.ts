import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { spawnGatehouse, startCluster, STORES, waitFor, type ApiResponse, type Cluster } from './support/cluster.js';
import { assertErrorBody, queryDatabase } from './support/http-assertions.js';
import { startIdentityProvider, type TestIdentityProvider } from './support/oidc-provider.js';

/**
 * Login through an identity provider end to end: a real OpenID Provider (oidc-provider) on
 * loopback, real gateway and agent processes. The login round trip (login URL, provider,
 * callback, redirect with the token), the token as Bearer, user sign-up and group sync, the
 * tokens the API refuses, a key rotation at the provider, and the callback's error answers.
 */

const CLI_CALLBACK = 'http://127.0.0.1:3587/callback';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CallbackAnswer {
  status: number;
  location: URL;
  cookie: string | null;
  cacheControl: string | null;
}

for (const store of STORES) {
  describe(`login through an identity provider (${store})`, () => {
    let idp: TestIdentityProvider;
    let cluster: Cluster;
    /** Every token and code the provider issued, none of which may show up in the gateway's output. */
    const credentials: string[] = [];
    let adaToken: string;

    before(async () => {
      idp = await startIdentityProvider();
      // No AUTH_METHOD: an IDP_ISSUER is enough to mean OIDC.
      cluster = await startCluster(store, {
        IDP_ISSUER: idp.issuer,
        IDP_CLIENT_ID: idp.clientId,
        IDP_CLIENT_SECRET: idp.clientSecret,
        IDP_AUDIENCE: idp.audience,
        IDP_SCOPES: 'api',
      });
      idp.register(`${cluster.url}/api/callback`);
      idp.accounts.set('ada-sub', { email: 'ada@example.com', name: 'Ada Lovelace' });
      idp.accounts.set('grace-sub', { email: 'grace@example.com', name: 'Grace Hopper', groups: ['dba', 'sre'] });
    });
    after(async () => {
      await cluster?.stop();
      await idp?.close();
    });

    /** The API without the admin key (the public routes), or with a login token. */
    const anonymous = (route: string) => cluster.api('GET', route, undefined, { authorization: '' });
    const withToken = (token: string, method: string, route: string, body?: unknown) =>
      cluster.api(method, route, body, { authorization: `Bearer ${token}` });

    async function startLogin(redirect?: string): Promise<string> {
      const started = await anonymous(`/api/login${redirect ? `?redirect=${encodeURIComponent(redirect)}` : ''}`);
      assert.equal(started.status, 200, started.text);
      return started.body.login_url;
    }

    /** Where the gateway sends the browser when the provider hands it `providerRedirect`. */
    async function callback(providerRedirect: URL): Promise<CallbackAnswer> {
      const code = providerRedirect.searchParams.get('code');
      if (code) credentials.push(code);
      const response = await fetch(providerRedirect, { redirect: 'manual' });
      await response.body?.cancel();
      const location = new URL(response.headers.get('location') ?? 'about:blank');
      const token = location.searchParams.get('token');
      if (token) credentials.push(token);
      return { status: response.status, location, cookie: response.headers.get('set-cookie'), cacheControl: response.headers.get('cache-control') };
    }

    /** A whole login of the account, answering the callback's redirect. */
    async function login(accountId: string, redirect?: string): Promise<CallbackAnswer> {
      return callback(await idp.authorize(await startLogin(redirect), accountId));
    }

    /** Logs in through the CLI redirect and answers the token it got. */
    async function tokenOf(accountId: string): Promise<string> {
      const answer = await login(accountId);
      assert.equal(answer.status, 307);
      assert.equal(`${answer.location.origin}${answer.location.pathname}`, CLI_CALLBACK, answer.location.href);
      const token = answer.location.searchParams.get('token');
      assert.ok(token, answer.location.href);
      return token;
    }

    async function userInfo(token: string): Promise<ApiResponse> {
      return withToken(token, 'GET', '/api/userinfo');
    }

    it('answers a login URL for the authorization code flow with PKCE, state and nonce', async () => {
      const loginUrl = new URL(await startLogin());
      assert.equal(loginUrl.origin, idp.issuer);
      const params = loginUrl.searchParams;
      assert.equal(params.get('client_id'), idp.clientId);
      assert.equal(params.get('response_type'), 'code');
      assert.equal(params.get('redirect_uri'), `${cluster.url}/api/callback`);
      assert.deepEqual(params.get('scope')?.split(' '), ['openid', 'profile', 'email', 'api']);
      assert.equal(params.get('code_challenge_method'), 'S256');
      assert.match(params.get('code_challenge') ?? '', /^[\w-]{43}$/);
      assert.equal(params.get('audience'), idp.audience);
      assert.ok((params.get('state') ?? '').length >= 32);
      assert.ok((params.get('nonce') ?? '').length >= 32);
      assert.notEqual(params.get('state'), new URL(await startLogin()).searchParams.get('state'));
    });

    it('signs the first user up as admin and redirects the CLI with a token that works as Bearer', async () => {
      const answer = await login('ada-sub');
      assert.equal(answer.status, 307);
      assert.equal(answer.cookie, null);
      assert.equal(answer.cacheControl, 'no-store');
      adaToken = answer.location.searchParams.get('token')!;
      assert.equal(decodeJwt(adaToken).iss, idp.issuer);

      const info = await userInfo(adaToken);
      assert.equal(info.status, 200, info.text);
      assert.match(info.body.id, UUID);
      assert.equal(info.body.email, 'ada@example.com');
      assert.equal(info.body.name, 'Ada Lovelace');
      assert.deepEqual(info.body.groups, ['admin']);
      assert.equal(info.body.role, 'admin');
      const stored = await cluster.api('GET', '/api/users/ada@example.com');
      assert.equal(stored.body.status, 'active');
      assert.equal(stored.body.verified, true);
    });

    it('runs sessions with the token, recorded as that user', async () => {
      const info = await userInfo(adaToken);
      const run = await withToken(adaToken, 'POST', '/api/sessions', { connection: 'bash', script: 'echo from-oidc' });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.output, 'from-oidc\n');
      const session = await cluster.api('GET', `/api/sessions/${run.body.session_id}`);
      assert.equal(session.status, 200, session.text);
      assert.equal(session.body.user_id, info.body.id);
      assert.equal(session.body.user, 'ada@example.com');
      assert.equal(session.body.user_name, 'Ada Lovelace');
    });

    it('signs later users up with the groups claim, and replaces their groups at each login', async () => {
      const first = await userInfo(await tokenOf('grace-sub'));
      assert.deepEqual(first.body.groups, ['dba', 'sre']);
      assert.equal(first.body.role, 'standard');

      idp.accounts.get('grace-sub')!.groups = 'ops';
      assert.deepEqual((await userInfo(await tokenOf('grace-sub'))).body.groups, ['ops']);

      // Without the claim the groups stay as they are.
      idp.accounts.get('grace-sub')!.groups = undefined;
      assert.deepEqual((await userInfo(await tokenOf('grace-sub'))).body.groups, ['ops']);

      // An admin stays one whatever the claim says.
      idp.accounts.get('ada-sub')!.groups = ['dba'];
      assert.deepEqual((await userInfo(await tokenOf('ada-sub'))).body.groups.sort(), ['admin', 'dba']);
    });

    it('hands a browser the token in a cookie and redirects it to the page it asked for', async () => {
      const page = `${cluster.url}/console/auth/callback`;
      const answer = await login('grace-sub', page);
      assert.equal(answer.status, 307);
      assert.equal(answer.location.href, page);
      assert.equal(answer.cacheControl, 'no-store');
      const match = /^hoop_access_token=([^;]+); Path=\/; Max-Age=60; SameSite=Lax$/.exec(answer.cookie ?? '');
      assert.ok(match, `Set-Cookie: ${answer.cookie}`);
      credentials.push(match[1]!);
      assert.equal((await userInfo(match[1]!)).body.email, 'grace@example.com');
    });

    it('activates an invited user at their first login, matched by email whatever its case', async () => {
      const invited = await cluster.api('POST', '/api/users', { email: 'Linus@Example.com', status: 'invited', groups: ['dev'] });
      assert.equal(invited.status, 201, invited.text);
      assert.equal(invited.body.status, 'invited');
      idp.accounts.set('linus-sub', { email: 'linus@example.com', name: 'Linus' });

      const info = await userInfo(await tokenOf('linus-sub'));
      assert.equal(info.body.id, invited.body.id);
      assert.equal(info.body.email, 'Linus@Example.com');
      assert.deepEqual(info.body.groups, ['dev']);
      assert.equal((await cluster.api('GET', `/api/users/${invited.body.id}`)).body.status, 'active');
    });

    it('refuses an inactive user: the login ends with an error and their tokens stop working', async () => {
      const token = await tokenOf('linus-sub');
      assert.equal((await userInfo(token)).status, 200);
      const deactivated = await cluster.api('PUT', '/api/users/linus@example.com', { email: 'linus@example.com', status: 'inactive', groups: ['dev'] });
      assert.equal(deactivated.status, 200, deactivated.text);

      assertErrorBody(await userInfo(token), 401, 'access denied');
      const page = `${cluster.url}/console/auth/callback`;
      const answer = await login('linus-sub', page);
      assert.equal(answer.status, 307);
      assert.equal(answer.location.href, `${page}?error=unexpected_error`);
      assert.equal(answer.cookie, null);
    });

    it('refuses a login whose email the provider has not verified', async () => {
      idp.accounts.set('unverified-sub', { email: 'ada@example.com', name: 'Not Ada', emailVerified: false });
      const answer = await login('unverified-sub');
      assert.equal(answer.location.href, `${CLI_CALLBACK}?error=unexpected_error`);
    });

    it('refuses expired tokens, tokens for another audience, tampered tokens and tokens of unknown users', async () => {
      const now = Math.floor(Date.now() / 1000);
      assert.equal((await userInfo(await idp.sign({ sub: 'ada-sub' }))).status, 200, 'a token the test signs is otherwise accepted');

      const refused = {
        expired: await idp.sign({ sub: 'ada-sub', iat: now - 7200, exp: now - 3600 }),
        'another audience': await idp.sign({ sub: 'ada-sub', aud: 'https://another-api.example' }),
        'another issuer': await idp.sign({ sub: 'ada-sub', iss: 'https://another-idp.example' }),
        'no subject': await idp.sign({ sub: undefined }),
        'unknown subject': await idp.sign({ sub: 'nobody-sub' }),
        // Grace's real token with its payload changed to name Ada, keeping Grace's signature.
        'tampered payload': await (async () => {
          const [header, payload, signature] = (await tokenOf('grace-sub')).split('.');
          const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'ada-sub' };
          return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
        })(),
        'tampered signature': (() => {
          const signatureStart = adaToken.lastIndexOf('.') + 1;
          const flipped = adaToken[signatureStart + 10] === 'A' ? 'B' : 'A';
          return adaToken.slice(0, signatureStart + 10) + flipped + adaToken.slice(signatureStart + 11);
        })(),
      };
      for (const [what, token] of Object.entries(refused)) {
        const answer = await userInfo(token);
        assert.equal(answer.status, 401, `${what}: ${answer.text}`);
        assert.deepEqual(answer.body, { message: 'access denied' }, what);
      }
    });

    it('follows a key rotation at the provider: tokens by the new key verify, tokens by the removed key are refused', async () => {
      const beforeRotation = await tokenOf('ada-sub');
      assert.equal((await userInfo(beforeRotation)).status, 200);
      await idp.rotateKeys();

      // The gateway fetches the key set again once it sees the new key id (at most every few seconds).
      const byNewKey = await idp.sign({ sub: 'ada-sub' });
      await waitFor('a token by the new key to be accepted', async () => ((await userInfo(byNewKey)).status === 200 ? true : undefined));
      const afterRotation = await tokenOf('ada-sub');
      assert.notEqual(decodeJwt(afterRotation).jti, decodeJwt(beforeRotation).jti);
      assert.equal((await userInfo(afterRotation)).body.email, 'ada@example.com');

      assertErrorBody(await userInfo(beforeRotation), 401, 'access denied');
      assertErrorBody(await userInfo(await idp.sign({ sub: 'ada-sub' }, 'previous')), 401, 'access denied');
    });

    it('answers 400 for an unknown, missing or already used state, and 401 when the provider reports an error', async () => {
      const providerRedirect = await idp.authorize(await startLogin(), 'ada-sub');
      const unknown = new URL(providerRedirect);
      unknown.searchParams.set('state', 'not-a-state-this-gateway-issued');
      assertErrorBody(await anonymous(`/api/callback${unknown.search}`), 400, 'failed to retrieve login state internally');
      assertErrorBody(await anonymous('/api/callback?code=abc'), 400, 'failed to retrieve login state internally');

      assert.equal((await callback(providerRedirect)).location.searchParams.has('token'), true);
      assertErrorBody(await anonymous(`/api/callback${providerRedirect.search}`), 400, 'failed to retrieve login state internally');

      assertErrorBody(
        await anonymous(`/api/callback?error=access_denied&state=${unknown.searchParams.get('state')}`),
        401,
        'error login callback response from identity provider, contact the administrator',
      );
    });

    if (store === 'postgres') {
      it('answers 400 for a login started more than 10 minutes ago', async () => {
        const providerRedirect = await idp.authorize(await startLogin(), 'ada-sub');
        await queryDatabase(cluster.postgresUri!, "UPDATE oidc_logins SET expires_at = now() - interval '1 second'");
        assertErrorBody(await anonymous(`/api/callback${providerRedirect.search}`), 400, 'failed to retrieve login state internally');
      });
    }

    it('answers 422 for a redirect off the API host', async () => {
      for (const redirect of ['https://evil.example/callback', 'javascript:alert(1)', 'not a url', `ftp://127.0.0.1/x`]) {
        assertErrorBody(
          await anonymous(`/api/login?redirect=${encodeURIComponent(redirect)}`),
          422,
          'redirect attribute does not match with api url',
        );
      }
    });

    it('keeps the local login routes off', async () => {
      for (const route of ['/api/localauth/register', '/api/localauth/login']) {
        assertErrorBody(await cluster.api('POST', route, { email: 'ada@example.com', password: 'whatever-pw' }), 403, 'local authentication is disabled');
      }
    });

    it('never writes the client secret, a code or a token to its output', async () => {
      const output = cluster.gateway.output();
      assert.ok(!output.includes(idp.clientSecret), 'the client secret is in the gateway output');
      for (const credential of credentials) assert.ok(!output.includes(credential), 'a code or token is in the gateway output');
      assert.match(output, /logged in through the identity provider/);
    });
  });
}

describe('OIDC configuration', () => {
  it('answers 403 on the login routes when login is not through an identity provider', async () => {
    const cluster = await startCluster(STORES[0]!);
    try {
      for (const route of ['/api/login', '/api/callback?state=x&code=y']) {
        assertErrorBody(await cluster.api('GET', route, undefined, { authorization: '' }), 403, 'OIDC provider not configured');
      }
    } finally {
      await cluster.stop();
    }
  });

  for (const [what, env, message] of [
    ['AUTH_METHOD=oidc without a provider', { AUTH_METHOD: 'oidc' }, /AUTH_METHOD=oidc\) needs IDP_ISSUER, IDP_CLIENT_ID, IDP_CLIENT_SECRET/],
    ['an IDP_ISSUER without client credentials', { IDP_ISSUER: 'https://idp.example' }, /needs IDP_CLIENT_ID, IDP_CLIENT_SECRET$/m],
    [
      'a plain http issuer off loopback',
      { IDP_ISSUER: 'http://idp.example', IDP_CLIENT_ID: 'c', IDP_CLIENT_SECRET: 's' },
      /IDP_ISSUER must be an https URL/,
    ],
  ] as const) {
    it(`refuses to start with ${what}`, async () => {
      const gateway = spawnGatehouse('gateway', { ...env, GATEHOUSE_DATA_DIR: '/nonexistent/never-created' });
      assert.equal(await gateway.exited, 2);
      assert.match(gateway.output(), message);
    });
  }
});
