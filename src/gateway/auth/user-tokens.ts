import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError } from '../../errors.js';
import { createTtlCache, LOOKUP_CACHE_TTL_MS } from '../ttl-cache.js';
import type { UserStore } from '../users/user-store.js';
import type { UserRecord } from '../users/user-types.js';
import type { Identity } from './identity.js';
import type { TokenSigningKey } from './signing-key.js';

const TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
const ALGORITHM = 'EdDSA';

/**
 * The identity of the user a login token names. A token is only as good as its user: each
 * request looks the user up again (cached for a second, cleared by changes made here), so a
 * deactivated or deleted user is refused at once.
 */
export function createTokenUserLookup(find: (key: string) => Promise<UserRecord | undefined>) {
  const recentUsers = createTtlCache<UserRecord>(LOOKUP_CACHE_TTL_MS, 10_000);
  return {
    /** The user's identity if they are active; 401 otherwise. */
    async identityOf(key: string): Promise<Identity> {
      let user = recentUsers.get(key);
      if (!user) {
        user = await find(key);
        if (user) recentUsers.set(key, user);
      }
      if (!user || user.status !== 'active') throw new UnauthorizedError('access denied');
      return { userId: user.id, email: user.email, name: user.name, groups: user.groups };
    },

    /** Forgets cached users, after a change to users or groups. */
    invalidate(): void {
      recentUsers.clear();
    },
  };
}

/** Login tokens issued by the gateway itself: Ed25519 JWTs naming the user by id. */
export function createUserTokens(deps: {
  signingKey: TokenSigningKey;
  /** The gateway's API_URL: tokens name it as `iss` and only its own are accepted. */
  issuer: string;
  users: Pick<UserStore, 'findById'>;
}) {
  const users = createTokenUserLookup((id) => deps.users.findById(id));

  /** The user id a valid token names: EdDSA only, our signature, our issuer, not expired. */
  async function subjectOf(token: string): Promise<string> {
    let subject: unknown;
    try {
      const { payload } = await jwtVerify(token, deps.signingKey.publicKey, {
        algorithms: [ALGORITHM],
        issuer: deps.issuer,
        requiredClaims: ['exp'],
      });
      subject = payload.sub;
    } catch (error) {
      if (!(error instanceof errors.JOSEError)) throw error;
    }
    if (typeof subject !== 'string') throw new UnauthorizedError('access denied');
    return subject;
  }

  return {
    async issue(user: Pick<UserRecord, 'id' | 'email'>): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ email: user.email, auth_time: now })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(deps.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
        .sign(deps.signingKey.privateKey());
    },

    /** The auth service's UserTokenVerifier: the token's user, if it is active (401 otherwise). */
    async verify(token: string): Promise<Identity> {
      return users.identityOf(await subjectOf(token));
    },

    invalidate: users.invalidate,
  };
}

export type UserTokens = ReturnType<typeof createUserTokens>;
