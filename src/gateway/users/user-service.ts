import { randomUUID } from 'node:crypto';
import type { AuthMethod } from '../../config.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../../errors.js';
import { checkPasswordRules, hashPassword } from '../auth/password.js';
import { ADMIN_GROUP, isAdmin, isAuditor, type Identity } from '../auth/identity.js';
import { isValidEmail } from './email.js';
import type { UserStore } from './user-store.js';
import { USER_STATUSES, type User, type UserInfo, type UserInput, type UserRecord, type UserStatus } from './user-types.js';

function checkStatus(status: string): UserStatus {
  if (!(USER_STATUSES as readonly string[]).includes(status)) {
    throw new UnprocessableError(`status: must be one of ${USER_STATUSES.join(', ')}`);
  }
  return status as UserStatus;
}

/** The password's hash, checked first; undefined when none was sent. */
async function passwordHashOf(input: UserInput): Promise<string | undefined> {
  if (input.password === undefined) return undefined;
  checkPasswordRules(input.password);
  return hashPassword(input.password);
}

function toView(user: UserRecord): User {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    status: user.status,
    verified: user.verified,
    role: user.groups.includes(ADMIN_GROUP) ? 'admin' : 'standard',
    slack_id: user.slackId,
    picture: user.picture,
    groups: user.groups,
  };
}

export function createUserService(deps: {
  store: Pick<UserStore, 'findById' | 'findByIdOrEmail' | 'list' | 'insert' | 'update' | 'deleteById'>;
  authMethod: AuthMethod;
  /** Called after every change, so cached logins see it at once. */
  onChange: () => void;
}) {
  const { store } = deps;

  async function find(emailOrId: string): Promise<UserRecord> {
    const user = await store.findByIdOrEmail(emailOrId);
    if (!user) throw new NotFoundError('not found');
    return user;
  }

  return {
    async list(): Promise<User[]> {
      return (await store.list()).map(toView);
    },

    async get(emailOrId: string): Promise<User> {
      return toView(await find(emailOrId));
    },

    async create(input: UserInput): Promise<User> {
      if (!isValidEmail(input.email)) throw new UnprocessableError('invalid email');
      const requested = checkStatus(input.status ?? 'invited');
      // Local login has no invitation step: a created user can log in at once.
      const status = deps.authMethod === 'local' ? 'active' : requested;
      const user = {
        id: randomUUID(),
        subject: input.email,
        email: input.email,
        name: input.name ?? '',
        status,
        verified: false,
        slackId: input.slack_id ?? '',
        picture: input.picture ?? '',
        groups: [...new Set(input.groups ?? [])],
      };
      const passwordHash = await passwordHashOf(input);
      if (!(await store.insert({ ...user, passwordHash }))) {
        throw new ConflictError(`user already exists with email ${input.email}`);
      }
      deps.onChange();
      return toView(user);
    },

    /** Replaces name, picture, Slack id and groups; the email stays. An omitted status or password is kept. */
    async update(caller: Identity, emailOrId: string, input: UserInput): Promise<User> {
      const existing = await find(emailOrId);
      const status = checkStatus(input.status ?? existing.status);
      const groups = new Set(input.groups ?? []);
      if (existing.id === caller.userId) {
        // An admin cannot lock themself out.
        groups.add(ADMIN_GROUP);
        if (status !== 'active') throw new UnprocessableError('cannot deactivate yourself');
      }
      const user = {
        ...existing,
        name: input.name ?? '',
        status,
        slackId: input.slack_id ?? '',
        picture: input.picture ?? '',
        groups: [...groups],
      };
      await store.update({ ...user, passwordHash: await passwordHashOf(input) });
      deps.onChange();
      return toView(user);
    },

    async remove(caller: Identity, emailOrId: string): Promise<void> {
      const existing = await find(emailOrId);
      if (existing.id === caller.userId) throw new UnprocessableError('cannot delete yourself');
      if (!(await store.deleteById(existing.id))) throw new NotFoundError('not found');
      deps.onChange();
    },

    /**
     * The caller: who authenticated (only active users do), plus the profile fields of their
     * user record; an API key has none.
     */
    async userInfo(identity: Identity): Promise<UserInfo> {
      const user = await store.findById(identity.userId);
      const admin = isAdmin(identity);
      return {
        id: identity.userId,
        name: identity.name,
        email: identity.email,
        status: 'active',
        verified: true,
        role: admin ? 'admin' : isAuditor(identity) ? 'auditor' : 'standard',
        is_admin: admin,
        slack_id: user?.slackId ?? '',
        picture: user?.picture ?? '',
        groups: identity.groups,
        is_multitenant: false,
        tenancy_type: 'selfhosted',
      };
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
