import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../../errors.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { ApiKeyStore } from '../api-keys/api-key-store.js';
import { ADMIN_GROUP, type Identity } from './identity.js';

const API_KEY_PREFIX = 'hpk_';

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

/** What a key looks like in listings: its first 8 characters, then one `*` per character. */
export function maskApiKey(key: string): string {
  return key.slice(0, 8) + '*'.repeat(Math.max(0, key.length - 8));
}

/** The configured `API_KEY` acts as this admin. */
const CONFIGURED_KEY_IDENTITY: Identity = {
  userId: 'API_KEY',
  email: 'API_KEY',
  name: 'API_KEY',
  groups: [ADMIN_GROUP],
};

export interface CredentialHeaders {
  authorization?: string;
  'api-key'?: string;
}

/** Verifies a bearer token that is not an API key (a login token); throws UnauthorizedError. */
export interface UserTokenVerifier {
  verify(token: string): Promise<Identity>;
}

export function createAuthService(deps: {
  apiKeys: Pick<ApiKeyStore, 'findActiveByHash' | 'countActive' | 'insert' | 'touchLastUsed'>;
  configuredApiKey: string | undefined;
  /** Login tokens (local or OIDC); without it only API keys authenticate. */
  userTokens?: UserTokenVerifier;
}) {
  const configuredHash = deps.configuredApiKey ? Buffer.from(sha256Hex(deps.configuredApiKey), 'hex') : undefined;
  // Only keys that were found are cached, so unknown keys cannot fill it.
  const identities = createTtlCache<Identity>(LOOKUP_CACHE_TTL_MS, 10_000);

  function presentedKey(headers: CredentialHeaders): string | undefined {
    const apiKeyHeader = headers['api-key'];
    if (apiKeyHeader) return apiKeyHeader;
    const authorization = headers.authorization;
    if (!authorization) return undefined;
    const match = /^Bearer ([^\s]+)$/.exec(authorization);
    if (!match) throw new UnauthorizedError('invalid authorization header, expected "Bearer <key>"');
    return match[1];
  }

  return {
    async authenticate(headers: CredentialHeaders): Promise<Identity> {
      const key = presentedKey(headers);
      if (!key) throw new UnauthorizedError('missing credentials: send "Authorization: Bearer <api key>"');
      const hash = sha256Hex(key);
      if (configuredHash && timingSafeEqual(configuredHash, Buffer.from(hash, 'hex'))) {
        return CONFIGURED_KEY_IDENTITY;
      }
      const cached = identities.get(hash);
      if (cached) return cached;
      if (!key.startsWith(API_KEY_PREFIX) && deps.userTokens) return deps.userTokens.verify(key);
      const record = await deps.apiKeys.findActiveByHash(hash);
      if (!record) throw new UnauthorizedError('access denied');
      const identity = { userId: record.userId, email: record.userEmail, name: record.userName, groups: record.groups };
      identities.set(hash, identity);
      // At most once per cache period per key; a failed update must not fail the request.
      void deps.apiKeys.touchLastUsed(record.id).catch(() => {});
      return identity;
    },

    /** Forgets cached keys: after a key is revoked or changed here, it applies at once. */
    forgetCachedKeys(): void {
      identities.clear();
    },

    /**
     * On a store with no admin credential at all, creates the first admin API key and returns
     * it (the only time it is seen in clear); otherwise returns undefined.
     */
    async bootstrapAdminKey(): Promise<string | undefined> {
      if (deps.configuredApiKey || (await deps.apiKeys.countActive()) > 0) return undefined;
      const key = newApiKey();
      await deps.apiKeys.insert({
        id: randomUUID(),
        name: 'admin (created at first start)',
        keyHash: sha256Hex(key),
        maskedKey: maskApiKey(key),
        createdBy: 'gatehouse',
        userId: 'admin',
        userEmail: 'admin@gatehouse.local',
        userName: 'Administrator',
        groups: [ADMIN_GROUP],
      });
      return key;
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
