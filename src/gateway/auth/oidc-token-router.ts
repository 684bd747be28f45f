import { decodeJwt } from 'jose';
import { UnauthorizedError } from '../../errors.js';
import type { UserTokenVerifier } from './auth-service.js';
import type { Identity } from './identity.js';

interface CachingVerifier extends UserTokenVerifier {
  /** Forgets cached users, after a change to users or groups. */
  invalidate(): void;
}

/**
 * The auth service's UserTokenVerifier when login tokens come from two issuers: a token whose
 * (not yet verified) `iss` is the gateway goes to the gateway's own verifier, any other to the
 * identity provider's, when one is configured. Each verifier then checks the signature and the
 * issuer for itself, so a forged `iss` only picks which check fails.
 */
export function routeLoginTokens(deps: { gatewayIssuer: string; local: CachingVerifier; oidc: CachingVerifier | undefined }) {
  return {
    async verify(token: string): Promise<Identity> {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new UnauthorizedError('access denied');
      }
      if (issuer === deps.gatewayIssuer) return deps.local.verify(token);
      if (deps.oidc) return deps.oidc.verify(token);
      throw new UnauthorizedError('access denied');
    },

    invalidate(): void {
      deps.local.invalidate();
      deps.oidc?.invalidate();
    },
  };
}
