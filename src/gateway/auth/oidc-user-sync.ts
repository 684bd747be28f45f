import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { isValidEmail } from '../users/email.js';
import type { UserStore } from '../users/user-store.js';
import type { UserRecord } from '../users/user-types.js';
import { ADMIN_GROUP } from './identity.js';

/** Why a login the provider vouched for is still refused; logged, never shown. */
export class LoginRefusedError extends Error {
  override readonly name = 'LoginRefusedError';
}

/** Who the ID token says logged in. */
interface LoginClaims {
  subject: string;
  email: string;
  name: string;
  /** The groups claim: undefined when absent, which leaves the user's groups as they are. */
  groups: string[] | undefined;
}

/** The groups claim, a string (one group) or an array of strings; anything else counts as absent. */
function groupsOf(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value ? [value] : [];
  if (!Array.isArray(value)) return undefined;
  return [...new Set(value.filter((group): group is string => typeof group === 'string' && group !== ''))];
}

export function loginClaimsOf(idToken: JWTPayload & { sub: string }, groupsClaim: string): LoginClaims {
  const { email, name, email_verified: emailVerified } = idToken;
  if (typeof email !== 'string' || !isValidEmail(email)) throw new LoginRefusedError('the ID token has no valid email claim');
  // Users are matched by email: one the provider says it has not verified could be anyone's.
  if (emailVerified === false) throw new LoginRefusedError('the identity provider has not verified the email');
  return { subject: idToken.sub, email, name: typeof name === 'string' ? name : '', groups: groupsOf(idToken[groupsClaim]) };
}

/**
 * Brings the user who logged in through the identity provider into the store: found by the
 * provider's subject, else by email (an invited user, or one created before the first login),
 * then linked to that subject and made active; signed up on first login, as admin if they are
 * the first user at all. Inactive users are refused.
 */
export function createOidcUserSync(deps: {
  users: Pick<UserStore, 'findBySubject' | 'findByEmail' | 'insert' | 'insertFirst' | 'update'>;
  /** Called after every change, so cached logins see it at once. */
  onChange: () => void;
}) {
  const { users } = deps;

  async function updateExisting(existing: UserRecord, claims: LoginClaims): Promise<UserRecord> {
    if (existing.status === 'inactive') throw new LoginRefusedError('the user is inactive');
    // The claim replaces the groups, but an admin stays one (the provider cannot lock them out).
    const groups =
      claims.groups === undefined
        ? existing.groups
        : [...new Set([...claims.groups, ...(existing.groups.includes(ADMIN_GROUP) ? [ADMIN_GROUP] : [])])];
    const user: UserRecord = {
      ...existing,
      subject: claims.subject,
      name: existing.name || claims.name,
      status: 'active',
      verified: true,
      groups,
    };
    await users.update(user);
    return user;
  }

  async function signUp(claims: LoginClaims): Promise<UserRecord> {
    const user: UserRecord = {
      id: randomUUID(),
      subject: claims.subject,
      email: claims.email,
      name: claims.name,
      status: 'active',
      verified: true,
      slackId: '',
      picture: '',
      groups: claims.groups ?? [],
    };
    const firstUser = { ...user, groups: [...new Set([...user.groups, ADMIN_GROUP])] };
    if (await users.insertFirst(firstUser)) return firstUser;
    if (await users.insert(user)) return user;
    throw new LoginRefusedError('the user was created by another login at the same time');
  }

  return {
    async signIn(claims: LoginClaims): Promise<UserRecord> {
      const existing = (await users.findBySubject(claims.subject)) ?? (await users.findByEmail(claims.email));
      const user = existing ? await updateExisting(existing, claims) : await signUp(claims);
      deps.onChange();
      return user;
    },
  };
}

export type OidcUserSync = ReturnType<typeof createOidcUserSync>;
