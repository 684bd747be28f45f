import { randomUUID } from 'node:crypto';
import { ForbiddenError, UnauthorizedError, UnprocessableError } from '../../errors.js';
import { isValidEmail } from '../users/email.js';
import type { UserStore } from '../users/user-store.js';
import { ADMIN_GROUP } from './identity.js';
import type { LocalLoginRequest, LocalRegisterRequest } from './local-auth-types.js';
import type { LoginRateLimiter } from './login-rate-limit.js';
import { checkPasswordRules, hashPassword, verifyPassword } from './password.js';
import type { UserTokens } from './user-tokens.js';

const REGISTRATION_CLOSED = 'unable to register new users, please contact your administrator';

/**
 * Email and password login (AUTH_METHOD=local). Each successful call answers a login token.
 * Login failures look alike whatever failed (unknown email, wrong password, inactive user), in
 * answer and in time, so they do not tell which accounts exist.
 */
export function createLocalAuthService(deps: {
  users: Pick<UserStore, 'hasAny' | 'insertFirst' | 'findLogin'>;
  tokens: Pick<UserTokens, 'issue'>;
  limiter: LoginRateLimiter;
  enabled: boolean;
}) {
  const { users } = deps;

  function requireEnabled(): void {
    if (!deps.enabled) throw new ForbiddenError('local authentication is disabled');
  }

  return {
    /** Creates the first user, as admin; once there is any user, registration is closed. */
    async register(request: LocalRegisterRequest): Promise<string> {
      requireEnabled();
      // Checked before the password is hashed, so a closed registration costs nothing.
      if (await users.hasAny()) throw new ForbiddenError(REGISTRATION_CLOSED);
      if (!isValidEmail(request.email)) throw new UnprocessableError('invalid email');
      checkPasswordRules(request.password);
      const user = {
        id: randomUUID(),
        subject: request.email,
        email: request.email,
        name: request.name ?? '',
        status: 'active' as const,
        verified: true,
        slackId: '',
        picture: '',
        groups: [ADMIN_GROUP],
      };
      const created = await users.insertFirst({ ...user, passwordHash: await hashPassword(request.password) });
      if (!created) throw new ForbiddenError(REGISTRATION_CLOSED);
      return deps.tokens.issue(user);
    },

    async login(request: LocalLoginRequest, clientAddress: string): Promise<string> {
      requireEnabled();
      const accountKey = `account:${request.email.toLowerCase()}`;
      const keys = [accountKey, `address:${clientAddress}`];
      deps.limiter.check(keys);
      const found = await users.findLogin(request.email);
      // Always hashes, even without an account, so that no answer comes back sooner.
      const passwordMatches = await verifyPassword(request.password, found?.passwordHash);
      if (!found || !passwordMatches || found.user.status !== 'active') {
        deps.limiter.recordFailure(keys);
        throw new UnauthorizedError('invalid credentials');
      }
      deps.limiter.reset(accountKey);
      return deps.tokens.issue(found.user);
    },
  };
}

export type LocalAuthService = ReturnType<typeof createLocalAuthService>;
