import type { OidcConfig } from '../../config.js';
import type { Logger } from '../../log.js';
import type { Db } from '../store/db.js';
import type { UserStore } from '../users/user-store.js';
import { createOidcBearerTokens } from './oidc-bearer-tokens.js';
import { createOidcIssuer } from './oidc-issuer.js';
import { createOidcLoginService } from './oidc-login-service.js';
import { createOidcLoginStore } from './oidc-login-store.js';
import { createOidcUserSync } from './oidc-user-sync.js';

/** Login through an identity provider: the login routes' service and the bearer-token verifier, sharing one view of the provider. */
export function createOidc(deps: {
  config: OidcConfig;
  apiUrl: string;
  db: Db;
  users: UserStore;
  /** Called after a login changed a user, so cached logins see it at once. */
  onUsersChange: () => void;
  log: Logger;
}) {
  const issuer = createOidcIssuer(deps.config, deps.log);
  return {
    bearerTokens: createOidcBearerTokens({ issuer, config: deps.config, users: deps.users }),
    login: createOidcLoginService({
      config: deps.config,
      apiUrl: deps.apiUrl,
      issuer,
      logins: createOidcLoginStore(deps.db),
      users: createOidcUserSync({ users: deps.users, onChange: deps.onUsersChange }),
      log: deps.log,
    }),
  };
}
