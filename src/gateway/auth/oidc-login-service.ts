import * as client from 'openid-client';
import type { OidcConfig } from '../../config.js';
import { BadRequestError, TooManyRequestsError, UnauthorizedError, UnprocessableError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { sha256Hex } from './auth-service.js';
import { accessTokenAudience } from './oidc-bearer-tokens.js';
import type { OidcIssuer } from './oidc-issuer.js';
import type { OidcLoginStore, PendingLogin } from './oidc-login-store.js';
import type { CallbackQuery, LoginQuery } from './oidc-login-types.js';
import { LoginRefusedError, loginClaimsOf, type OidcUserSync } from './oidc-user-sync.js';

/** How long a started login can be completed. */
const LOGIN_TTL_MS = 10 * 60_000;
const MAX_PENDING_LOGINS = 10_000;
/** Where the CLI listens for the end of its login; it alone gets the token in the URL. */
const CLI_CALLBACK_HOST = '127.0.0.1:3587';
const CLI_CALLBACK_URL = `http://${CLI_CALLBACK_HOST}/callback`;

/** Where the callback sends the browser, and the token to hand it in a cookie, if any. */
interface CallbackOutcome {
  location: string;
  cookieToken?: string;
}

function withParam(url: string, name: string, value: string): string {
  const target = new URL(url);
  target.searchParams.set(name, value);
  return target.href;
}

/** Logs what failed without the error's cause, which can hold the provider's response. */
function reasonOf(error: unknown): Record<string, unknown> {
  const { name, message, code } = error as { name?: string; message?: string; code?: string };
  return { name, message, code };
}

/**
 * Login through the identity provider (AUTH_METHOD=oidc): the authorization code flow with
 * PKCE (S256), `state` and `nonce`. The pending login lives in the database (the state only as
 * its hash) so any gateway sharing it completes the callback, at most once, within 10 minutes.
 * The callback exchanges the code, checks the ID token (signature by the provider's key set,
 * issuer, audience, nonce, expiry, `azp`) and that the access token is one the API accepts for
 * the same subject, syncs the user, and hands the access token back.
 */
export function createOidcLoginService(deps: {
  config: OidcConfig;
  /** The gateway's API_URL: the provider redirects to its /api/callback, and redirects must stay on its host. */
  apiUrl: string;
  issuer: Pick<OidcIssuer, 'configuration' | 'verify'>;
  logins: Pick<OidcLoginStore, 'insert' | 'take' | 'countPending'>;
  users: Pick<OidcUserSync, 'signIn'>;
  log: Logger;
}) {
  const { config } = deps;
  const callbackUrl = `${deps.apiUrl}/api/callback`;
  const apiHostname = new URL(deps.apiUrl).hostname;

  /** The requested redirect, which must be on the API's host (a login must not end on someone else's site). */
  function checkRedirect(redirect: string | undefined): string {
    if (!redirect) return CLI_CALLBACK_URL;
    const url = URL.canParse(redirect) ? new URL(redirect) : undefined;
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.hostname !== apiHostname) {
      throw new UnprocessableError('redirect attribute does not match with api url');
    }
    return url.href;
  }

  /** Exchanges the code and checks every token; answers the access token to hand out. */
  async function completeAtProvider(login: PendingLogin, state: string, rawQuery: string): Promise<string> {
    const configuration = await deps.issuer.configuration();
    const tokens = await client.authorizationCodeGrant(configuration, new URL(`${callbackUrl}?${rawQuery}`), {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    // openid-client checked the ID token's claims (idTokenExpected: it is there); its signature is
    // checked here, with the cached key set that checks every access token too.
    const idToken = await deps.issuer.verify(tokens.id_token!, config.clientId);
    if (idToken.azp !== undefined && idToken.azp !== config.clientId) throw new LoginRefusedError('the ID token was issued to another client');
    // The access token is what the user gets, so it must be one the API accepts.
    const audience = accessTokenAudience(config);
    const accessToken = await deps.issuer.verify(tokens.access_token, audience).catch((error: unknown) => {
      if (!(error instanceof UnauthorizedError)) throw error;
      throw new LoginRefusedError(`the access token is not a JWT the provider signed for audience ${audience} (IDP_AUDIENCE)`);
    });
    if (accessToken.sub !== idToken.sub) throw new LoginRefusedError('the access token names another subject than the ID token');
    const user = await deps.users.signIn(loginClaimsOf(idToken, config.groupsClaim));
    deps.log.info({ userId: user.id, email: user.email }, 'logged in through the identity provider');
    return tokens.access_token;
  }

  return {
    /** Starts a login; answers the provider's authorize URL. */
    async start(query: LoginQuery): Promise<string> {
      const redirectUrl = checkRedirect(query.redirect);
      const configuration = await deps.issuer.configuration();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const codeVerifier = client.randomPKCECodeVerifier();
      // Anyone may start a login: their number is bounded, so they cannot fill the store.
      if ((await deps.logins.countPending()) >= MAX_PENDING_LOGINS) {
        throw new TooManyRequestsError('too many logins in progress, try again later', 60);
      }
      await deps.logins.insert({ stateHash: sha256Hex(state), codeVerifier, nonce, redirectUrl, expiresAt: new Date(Date.now() + LOGIN_TTL_MS) });
      const optional = { audience: config.audience, prompt: query.prompt, screen_hint: query.screen_hint };
      return client.buildAuthorizationUrl(configuration, {
        redirect_uri: callbackUrl,
        scope: config.scopes.join(' '),
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value)),
      }).href;
    },

    /** Completes a login at the provider's redirect; `rawQuery` is the callback's query string as received. */
    async complete(query: CallbackQuery, rawQuery: string): Promise<CallbackOutcome> {
      if (query.error) {
        deps.log.warn({ error: query.error.slice(0, 200) }, 'the identity provider answered the login with an error');
        throw new UnauthorizedError('error login callback response from identity provider, contact the administrator');
      }
      const login = query.state ? await deps.logins.take(sha256Hex(query.state)) : undefined;
      if (!query.state || !login || login.expiresAt.getTime() <= Date.now()) {
        throw new BadRequestError('failed to retrieve login state internally');
      }
      let token: string;
      try {
        token = await completeAtProvider(login, query.state, rawQuery);
      } catch (error) {
        deps.log.warn({ reason: reasonOf(error) }, 'login through the identity provider failed');
        return { location: withParam(login.redirectUrl, 'error', 'unexpected_error') };
      }
      // The CLI listens on loopback and reads the token from its URL; a browser gets it in a cookie.
      if (new URL(login.redirectUrl).host === CLI_CALLBACK_HOST) return { location: withParam(login.redirectUrl, 'token', token) };
      return { location: login.redirectUrl, cookieToken: token };
    },
  };
}

export type OidcLoginService = ReturnType<typeof createOidcLoginService>;
