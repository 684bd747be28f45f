import { Type } from 'typebox';
import { ForbiddenError } from '../../errors.js';
import type { App } from '../http/app.js';
import { errorResponses } from '../http/schemas.js';
import type { OidcLoginService } from './oidc-login-service.js';
import { CallbackQuery, LoginQuery, LoginResponse } from './oidc-login-types.js';

/** The cookie hoop's web console reads the token from, on the page the login ends on. */
const TOKEN_COOKIE = 'hoop_access_token';
/** Long enough for the page the login ends on to read it; it is not a session cookie. */
const TOKEN_COOKIE_MAX_AGE_SECONDS = 60;

/**
 * The cookie is not HttpOnly: hoop's web console reads it with JavaScript and keeps the token
 * to send as `Authorization: Bearer`. The gateway never takes the cookie as a credential, so
 * it opens no cross-site request forgery; it is short-lived, Lax, and Secure over https.
 */
function tokenCookie(token: string, secure: boolean): string {
  return [`${TOKEN_COOKIE}=${token}`, 'Path=/', `Max-Age=${TOKEN_COOKIE_MAX_AGE_SECONDS}`, 'SameSite=Lax', ...(secure ? ['Secure'] : [])].join('; ');
}

/** Registered whatever the auth method; without an identity provider both answer 403. */
export function registerOidcLoginRoutes(app: App, login: OidcLoginService | undefined, options: { secureCookie: boolean }): void {
  const tags = ['Authentication'];

  function service(): OidcLoginService {
    if (!login) throw new ForbiddenError('OIDC provider not configured');
    return login;
  }

  app.get(
    '/api/login',
    {
      config: { role: 'public' },
      schema: {
        tags,
        summary: 'OIDC | Login',
        description: 'Starts a login at the identity provider (AUTH_METHOD=oidc); open `login_url` in a browser.',
        security: [],
        querystring: LoginQuery,
        response: { 200: LoginResponse, ...errorResponses(403, 422, 502) },
      },
    },
    async (request) => ({ login_url: await service().start(request.query) }),
  );

  app.get(
    '/api/callback',
    {
      config: { role: 'public' },
      schema: {
        tags,
        summary: 'OIDC | Login Callback',
        description:
          "The identity provider's redirect URI. Answers 307 to the login's `redirect`: with `?token=<access token>` for the CLI, " +
          'otherwise with the token in the `hoop_access_token` cookie; with `?error=unexpected_error` when the login fails past the state check.',
        security: [],
        querystring: CallbackQuery,
        response: { 307: Type.Null({ description: 'Redirect to the login\'s `redirect`' }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const outcome = await service().complete(request.query, rawQuery);
      // The answer carries a token: no cache may keep it.
      reply.header('Cache-Control', 'no-store');
      if (outcome.cookieToken) reply.header('Set-Cookie', tokenCookie(outcome.cookieToken, options.secureCookie));
      return reply.redirect(outcome.location, 307);
    },
  );
}
