import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import * as client from 'openid-client';
import type { OidcConfig } from '../../config.js';
import { UnauthorizedError, UpstreamError } from '../../errors.js';
import type { Logger } from '../../log.js';

/** Asymmetric algorithms only: a provider's key set holds no shared secrets, and `none` is never accepted. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * A token signed with a key id the cached key set lacks fetches the set again, at most this
 * often: a key the provider rotates in is picked up within seconds, and made-up key ids cannot
 * make the gateway hammer the provider.
 */
const KEY_SET_REFETCH_COOLDOWN_MS = 5_000;
/** A failed discovery is tried again by a request after this pause, not by every request. */
const DISCOVERY_RETRY_MS = 5_000;

/** Verification failures that are the token's fault (answered 401), as opposed to the provider being unreachable. */
const TOKEN_ERRORS = [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWSSignatureVerificationFailed,
  errors.JWSInvalid,
  errors.JWTInvalid,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
];

export type VerifiedClaims = JWTPayload & { sub: string };

interface DiscoveredProvider {
  configuration: client.Configuration;
  keys: ReturnType<typeof createRemoteJWKSet>;
}

/**
 * The identity provider as the gateway sees it: its metadata, discovered from IDP_ISSUER on
 * first use (so the gateway starts while the provider is down), and one cached key set that
 * verifies everything it signs (ID tokens at login, access tokens on every request).
 */
export function createOidcIssuer(config: OidcConfig, log: Logger) {
  let discovered: Promise<DiscoveredProvider> | undefined;

  async function discover(): Promise<DiscoveredProvider> {
    // Plain http is only ever configured for a loopback issuer (checked in config.ts).
    const insecure = new URL(config.issuer).protocol === 'http:';
    const configuration = await client.discovery(
      new URL(config.issuer),
      config.clientId,
      config.clientSecret,
      undefined,
      insecure ? { execute: [client.allowInsecureRequests] } : undefined,
    );
    const jwksUri = configuration.serverMetadata().jwks_uri;
    if (!jwksUri) throw new Error('its discovery document names no jwks_uri');
    return { configuration, keys: createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: KEY_SET_REFETCH_COOLDOWN_MS }) };
  }

  function provider(): Promise<DiscoveredProvider> {
    discovered ??= discover().catch((error: Error) => {
      setTimeout(() => (discovered = undefined), DISCOVERY_RETRY_MS).unref();
      log.error({ issuer: config.issuer, reason: error.message }, 'failed discovering the identity provider');
      throw new UpstreamError('failed reaching the identity provider');
    });
    return discovered;
  }

  return {
    async configuration(): Promise<client.Configuration> {
      return (await provider()).configuration;
    },

    /**
     * The claims of a JWT the provider signed for `audience`: a key of its key set, its issuer,
     * not expired, with a subject. A bad token is 401; an unreachable provider 502.
     */
    async verify(token: string, audience: string): Promise<VerifiedClaims> {
      const { configuration, keys } = await provider();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: configuration.serverMetadata().issuer,
          audience,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        if (TOKEN_ERRORS.some((type) => error instanceof type)) throw new UnauthorizedError('access denied');
        log.error({ reason: (error as Error).message }, "failed fetching the identity provider's signing keys");
        throw new UpstreamError('failed reaching the identity provider');
      }
      if (typeof payload.sub !== 'string' || !payload.sub) throw new UnauthorizedError('access denied');
      return payload as VerifiedClaims;
    },
  };
}

export type OidcIssuer = ReturnType<typeof createOidcIssuer>;
