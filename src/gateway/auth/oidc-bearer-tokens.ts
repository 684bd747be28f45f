import type { OidcConfig } from '../../config.js';
import type { UserStore } from '../users/user-store.js';
import type { Identity } from './identity.js';
import type { OidcIssuer } from './oidc-issuer.js';
import { createTokenUserLookup } from './user-tokens.js';

/** The audience of the access tokens the API accepts: IDP_AUDIENCE, else the client id. */
export function accessTokenAudience(config: OidcConfig): string {
  return config.audience ?? config.clientId;
}

/**
 * Access tokens the identity provider issued, accepted as `Authorization: Bearer`: JWTs it
 * signed for the API's audience, naming by `sub` a user who logged in through it (the login
 * links the subject to the user) and who is active.
 */
export function createOidcBearerTokens(deps: {
  issuer: Pick<OidcIssuer, 'verify'>;
  config: OidcConfig;
  users: Pick<UserStore, 'findBySubject'>;
}) {
  const users = createTokenUserLookup((subject) => deps.users.findBySubject(subject));
  const audience = accessTokenAudience(deps.config);
  return {
    async verify(token: string): Promise<Identity> {
      const claims = await deps.issuer.verify(token, audience);
      return users.identityOf(claims.sub);
    },

    invalidate: users.invalidate,
  };
}
