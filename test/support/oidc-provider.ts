import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { errors, type Configuration } from 'oidc-provider';

/**
 * A real OpenID Provider (the `oidc-provider` package) on loopback, for end-to-end login tests:
 * one confidential client that must use PKCE, an ID token carrying email, name and a groups
 * claim, and access tokens that are JWTs for one API audience (resource indicators), signed
 * with keys the test can rotate. Its dev interactions are driven programmatically: the
 * account id typed into the login form picks who logs in, no password is checked.
 */

export const GROUPS_CLAIM = 'https://app.hoop.dev/groups';

export interface TestAccount {
  email: string;
  name: string;
  /** The groups claim as sent (any JSON value); left out of the tokens when undefined. */
  groups?: unknown;
  emailVerified?: boolean;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

async function newSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** Cookies the provider sets across its redirects (its interaction and session cookies). */
function createCookieJar() {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    store(response: Response): void {
      for (const cookie of response.headers.getSetCookie()) {
        const pair = cookie.split(';')[0]!;
        const equals = pair.indexOf('=');
        cookies.set(pair.slice(0, equals).trim(), pair.slice(equals + 1));
      }
    },
  };
}

export interface TestIdentityProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The API audience its access tokens are for (what the gateway gets as IDP_AUDIENCE). */
  audience: string;
  /** Accounts by id (the provider's `sub`); tests change them between logins. */
  accounts: Map<string, TestAccount>;
  /** Starts answering OpenID requests for a client whose redirect URI is `redirectUri`. */
  register(redirectUri: string): void;
  /** Logs `accountId` in at the authorize URL and answers where the provider sends the browser back to. */
  authorize(loginUrl: string, accountId: string): Promise<URL>;
  /** A JWT signed with the provider's current key (or the one before the last rotation). */
  sign(claims: JWTPayload, key?: 'current' | 'previous'): Promise<string>;
  /** Replaces the signing key: the key set it publishes holds only the new key from now on. */
  rotateKeys(): Promise<void>;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server: Server = createServer((request, response) => {
    if (handler) return handler(request, response);
    response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const accounts = new Map<string, TestAccount>();
  let keys = { current: await newSigningKey(), previous: undefined as SigningKey | undefined };
  let redirectUri = '';

  const idp: TestIdentityProvider = {
    issuer,
    clientId: 'gatehouse-test',
    clientSecret: `secret-${randomUUID()}`,
    audience: 'https://gatehouse.test/api',
    accounts,

    register(uri) {
      redirectUri = uri;
      handler = buildProvider().callback();
    },

    async authorize(loginUrl, accountId) {
      const jar = createCookieJar();
      let url = new URL(loginUrl);
      let form: URLSearchParams | undefined;
      for (let step = 0; step < 10; step++) {
        if (url.href.startsWith(redirectUri)) return url;
        const response = await fetch(url, {
          method: form ? 'POST' : 'GET',
          body: form,
          redirect: 'manual',
          headers: { cookie: jar.header() },
        });
        jar.store(response);
        const location = response.headers.get('location');
        if (location) {
          url = new URL(location, url);
          form = undefined;
          continue;
        }
        // An interaction page: its form posts back to the same URL with the prompt it asks.
        const page = await response.text();
        const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
        if (!prompt) throw new Error(`the provider answered ${response.status} at ${url.pathname}: ${page.slice(0, 300)}`);
        form = new URLSearchParams(prompt === 'login' ? { prompt, login: accountId, password: 'unused' } : { prompt });
      }
      throw new Error('the provider did not redirect back to the client');
    },

    async sign(claims, key = 'current') {
      const signingKey = keys[key];
      if (!signingKey) throw new Error(`no ${key} signing key`);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: idp.audience, iat: now, exp: now + 3600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'at+jwt' })
        .sign(signingKey.privateJwk);
    },

    async rotateKeys() {
      keys = { current: await newSigningKey(), previous: keys.current };
      handler = buildProvider().callback();
    },

    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function buildProvider(): Provider {
    const configuration: Configuration = {
      clients: [
        {
          client_id: idp.clientId,
          client_secret: idp.clientSecret,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      jwks: { keys: [keys.current.privateJwk] },
      cookies: { keys: ['gatehouse-test-cookie-key'] },
      pkce: { required: () => true },
      ttl: { AuthorizationCode: 60, AccessToken: 3600, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
      // Profile claims go into the ID token itself, not only to the userinfo endpoint.
      conformIdTokenClaims: false,
      claims: { openid: ['sub', GROUPS_CLAIM], email: ['email', 'email_verified'], profile: ['name'] },
      async findAccount(_ctx, id) {
        const account = accounts.get(id);
        if (!account) return undefined;
        return {
          accountId: id,
          claims: () => ({
            sub: id,
            email: account.email,
            email_verified: account.emailVerified ?? true,
            name: account.name,
            ...(account.groups === undefined ? {} : { [GROUPS_CLAIM]: account.groups }),
          }),
        };
      },
      features: {
        devInteractions: { enabled: true },
        resourceIndicators: {
          enabled: true,
          // Every authorization is for the API, so its access token is a JWT the gateway verifies.
          defaultResource: () => idp.audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== idp.audience) throw new errors.InvalidTarget();
            return { scope: 'api', audience: idp.audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
    };
    return new Provider(issuer, configuration);
  }

  return idp;
}
